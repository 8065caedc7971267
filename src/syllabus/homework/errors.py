"""What homework refuses, each naming the field it is about (``errors[].field``)."""

from http import HTTPStatus

from syllabus.errors import AppError, Conflict, Forbidden


class FileTooLarge(AppError):
    """A submitted file is larger than ``SYLLABUS_SUBMISSION_MAX_FILE_BYTES``, or a
    submission carries more files than ``SYLLABUS_SUBMISSION_MAX_FILES``; ``errors``
    names the file (``files[i]``) or ``files``. Nothing is stored."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    title = "Submission too large"
    code = "submission-too-large"


class FileTypeRefused(AppError):
    """A submitted file's media type is not one ``SYLLABUS_SUBMISSION_MEDIA_TYPES``
    allows, or its content is not what it declares (a PDF that is not a PDF, text that
    is not UTF-8); ``errors`` names the file (``files[i]``). Nothing is stored."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    title = "File type not accepted"
    code = "submission-file-type"


class SubmissionOpen(Conflict):
    """Submitting to a practice while an earlier submission of it is still a draft,
    submitted or in review: finish (or wait for) that one first."""

    title = "Submission still open"
    code = "submission-open"


class WrongSubmissionStatus(Conflict):
    """The submission's status does not allow this step (submitting what is not a
    draft, reviewing what is reviewed or returned already); ``errors`` names ``status``
    and ``allowed`` lists the statuses that would."""

    title = "Wrong submission status"
    code = "submission-status"


class OwnSubmission(Forbidden):
    """A teacher reviewing their own submission."""

    title = "Own submission"
    code = "submission-own"
