"""A learner's submissions: submit (text, code, links and files), finish a draft, read
my own, download my files. Access is ``access``'s rule for graded work (DECISIONS 4): a
live enrollment in the practice's course, and an entitlement when it is paid. Services
never commit; files reach GridFS before the rows that point at them and are deleted
again if the unit of work rolls back (:mod:`syllabus.homework.files`)."""

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.access import service as access
from syllabus.catalog.repository import CourseRow
from syllabus.content import service as content
from syllabus.content.documents import PracticeContent
from syllabus.db.sql import after_rollback
from syllabus.errors import NotFound, ValidationFailed
from syllabus.homework import files, repository
from syllabus.homework.errors import SubmissionOpen, WrongSubmissionStatus
from syllabus.homework.files import CheckedFile
from syllabus.homework.models import OPEN_STATUSES, Submission, SubmissionFile
from syllabus.homework.repository import Row
from syllabus.homework.schemas import (
    CONTENT_PATTERN,
    RubricLinePublic,
    SubmissionFilePublic,
    SubmissionPublic,
    SubmissionReview,
)
from syllabus.identity.models import User

Database = AsyncDatabase[dict[str, object]]


def wrong_status(
    submission: Submission, allowed: Sequence[str], doing: str
) -> WrongSubmissionStatus:
    message = f"is {submission.status}; {doing} needs {' or '.join(allowed)}"
    return WrongSubmissionStatus(
        f"status {message}",
        errors=[{"field": "status", "in": "body", "message": message, "type": "transition"}],
        status_now=submission.status,
        allowed=list(allowed),
    )


def has_content(text: str, links: Sequence[str], files: int) -> bool:
    """Text that says something (:data:`CONTENT_PATTERN`), a link or a file."""
    return bool(re.search(CONTENT_PATTERN, text) or links or files)


def _nothing_to_submit() -> ValidationFailed:
    message = "a submission needs text, links or files"
    return ValidationFailed(
        message, errors=[{"field": "text", "in": "body", "message": message, "type": "empty"}]
    )


def files_public(rows: Sequence[SubmissionFile]) -> list[SubmissionFilePublic]:
    return [SubmissionFilePublic.model_validate(row) for row in rows]


def review_public(submission: Submission) -> SubmissionReview | None:
    if submission.reviewed_at is None:
        return None
    return SubmissionReview(
        score=None if submission.score is None else float(submission.score),
        rubric=[RubricLinePublic.model_validate(line) for line in submission.rubric],
        comment=submission.comment,
        what_to_fix=submission.what_to_fix,
        reviewed_at=submission.reviewed_at,
    )


async def public(session: AsyncSession, rows: Sequence[Row]) -> list[SubmissionPublic]:
    attached = await repository.files_of(session, [s.id for s, _ in rows])
    result = []
    for submission, course in rows:
        assert submission.created_at is not None
        result.append(
            SubmissionPublic(
                id=submission.id,
                practice_id=submission.practice_content_id,
                practice_version=submission.practice_version,
                course_id=course,
                version=submission.version,
                previous_id=submission.previous_id,
                status=submission.status,
                text=submission.text,
                links=submission.links,
                files=files_public(attached[submission.id]),
                created_at=submission.created_at,
                submitted_at=submission.submitted_at,
                review=review_public(submission),
            )
        )
    return result


async def open_for_submission(
    *, session: AsyncSession, user: User, practice_id: str
) -> tuple[PracticeContent, CourseRow]:
    """The practice, if this learner may hand work in on it: a current practice of a
    course they may see (404), open to them (403 to buy it) and enrolled in (403). Asked
    before any file is read."""
    practice, course = await content.visible_practice(
        session=session, viewer=user, practice_id=practice_id
    )
    await access.require_enrollment(session=session, user=user, course=course.course.content_id)
    return practice, course


async def submit(
    *,
    session: AsyncSession,
    database: Database,
    user: User,
    practice: PracticeContent,
    course: CourseRow,
    text: str,
    links: list[str],
    checked: Sequence[CheckedFile],
    draft: bool,
) -> SubmissionPublic:
    """A new submission (or draft) of a practice (from :func:`open_for_submission`): the
    first, or the next version after the last was reviewed or returned (the earlier
    ones stay). 409 while one is open."""
    practice_id = practice.id
    if not has_content(text, links, len(checked)):
        raise _nothing_to_submit()
    latest = await repository.latest(session, user_id=user.id, practice_id=practice_id)
    if latest is not None and latest.status in OPEN_STATUSES:
        raise _open(latest)
    gridfs_ids = await files.upload(
        database, checked, metadata={"user_id": str(user.id), "practice_id": practice_id}
    )

    async def forget_uploads() -> None:
        await files.delete(database, gridfs_ids)

    after_rollback(session, forget_uploads)
    submission = Submission(
        user_id=user.id,
        course_id=course.course.id,
        practice_content_id=practice_id,
        practice_version=practice.version,
        version=1 if latest is None else latest.version + 1,
        previous_id=None if latest is None else latest.id,
        status="draft" if draft else "submitted",
        text=text,
        links=links,
        submitted_at=None if draft else datetime.now(UTC),
    )
    session.add(submission)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent first submission of the same practice
        raise SubmissionOpen(
            "another submission of this practice was just made", field="practice_id"
        ) from error
    await repository.add_files(
        session,
        [
            SubmissionFile(
                submission_id=submission.id,
                gridfs_id=gridfs_id,
                filename=f.filename,
                media_type=f.media_type,
                size_bytes=f.size_bytes,
                sha256=f.sha256,
            )
            for f, gridfs_id in zip(checked, gridfs_ids, strict=True)
        ],
    )
    return (await public(session, [(submission, course.course.content_id)]))[0]


def _open(latest: Submission) -> SubmissionOpen:
    message = f"version {latest.version} is still {latest.status}"
    return SubmissionOpen(
        f"{message}: submit it, or wait for its review",
        errors=[{"field": "practice_id", "in": "path", "message": message, "type": "open"}],
        submission_id=str(latest.id),
    )


async def submit_draft(
    *, session: AsyncSession, user: User, submission_id: uuid.UUID
) -> SubmissionPublic:
    """My draft becomes submitted (it joins the review queue)."""
    row = await repository.mine(session, user_id=user.id, submission_id=submission_id, lock=True)
    if row is None:
        raise NotFound("no such submission of yours", field="submission_id")
    submission, course = row
    if submission.status != "draft":
        raise wrong_status(submission, ["draft"], "submitting")
    await access.require_enrollment(session=session, user=user, course=course)
    attached = await repository.files_of(session, [submission.id])
    if not has_content(submission.text, submission.links, len(attached[submission.id])):
        raise _nothing_to_submit()
    submission.status = "submitted"
    submission.submitted_at = datetime.now(UTC)
    await session.flush()
    return (await public(session, [row]))[0]


async def mine(
    *,
    session: AsyncSession,
    user: User,
    practice_id: str | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[SubmissionPublic]:
    rows = await repository.my_page(
        session,
        user_id=user.id,
        practice_id=practice_id,
        status=status,
        after=after,
        limit=limit,
    )
    return await public(session, rows)


async def one_of_mine(
    *, session: AsyncSession, user: User, submission_id: uuid.UUID
) -> SubmissionPublic:
    row = await repository.mine(session, user_id=user.id, submission_id=submission_id)
    if row is None:
        raise NotFound("no such submission of yours", field="submission_id")
    return (await public(session, [row]))[0]


async def download(
    database: Database, row: SubmissionFile | None, *, field: str
) -> tuple[SubmissionFile, AsyncIterator[bytes]]:
    """A file row found by the caller's rule, and its bytes from GridFS."""
    chunks = None if row is None else await files.stream(database, row.gridfs_id)
    if row is None or chunks is None:
        raise NotFound("no such file", field=field)
    return row, chunks


async def my_file(
    *,
    session: AsyncSession,
    database: Database,
    user: User,
    submission_id: uuid.UUID,
    file_id: uuid.UUID,
) -> tuple[SubmissionFile, AsyncIterator[bytes]]:
    row = await repository.my_file(
        session, user_id=user.id, submission_id=submission_id, file_id=file_id
    )
    return await download(database, row, field="file_id")


async def purge_orphan_files(
    *,
    sessions: async_sessionmaker[AsyncSession],
    database: Database,
    older_than: timedelta = files.ORPHAN_AGE,
    now: datetime | None = None,
) -> int:
    """Delete the GridFS files no submission row points at, once older than
    ``older_than`` (``syllabus purge-files``); how many were deleted."""

    async def referenced(gridfs_ids: list[str]) -> set[str]:
        async with sessions() as session:
            return await repository.referenced(session, gridfs_ids)

    return await files.purge_orphans(
        database, referenced=referenced, older_than=older_than, now=now
    )
