"""HTTP for homework: a learner submits to a practice (multipart: text, links, files)
and reads their own submissions and files; teachers and admins work the review queue
(``/review/submissions``), which never names the learner. Submitting accepts an
Idempotency-Key: a retry with the same fields and files gets the first answer."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from syllabus.content.schemas import PracticeRef
from syllabus.deps import MongoDatabaseDep, SessionDep, SettingsDep
from syllabus.errors import problem_responses
from syllabus.homework import review, service
from syllabus.homework.errors import (
    FileTooLarge,
    FileTypeRefused,
    OwnSubmission,
    SubmissionOpen,
    WrongSubmissionStatus,
)
from syllabus.homework.files import check as check_files
from syllabus.homework.models import SubmissionFile, SubmissionStatus
from syllabus.homework.schemas import (
    ReviewAction,
    SubmissionForm,
    SubmissionPublic,
    SubmissionToReview,
)
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome
from syllabus.identity.deps import CurrentUser, ReviewerUser
from syllabus.kit.filters import CourseFilter, PracticeFilter
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.pagination import Page, Paging, key_datetime, uuid_key

router = APIRouter(tags=["homework"], responses=problem_responses(401, 422))

FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file as uploaded, with its media type; ETag is its SHA-256",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _file_response(row: SubmissionFile, chunks: Any) -> StreamingResponse:
    ascii_name = row.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}"
    return StreamingResponse(
        chunks,
        media_type=row.media_type,
        headers={
            "Content-Length": str(row.size_bytes),
            "Content-Disposition": disposition,
            "ETag": f'"{row.sha256}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/practices/{practice_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionPublic,
    responses=problem_responses(403, 404, SubmissionOpen, FileTooLarge, FileTypeRefused),
    summary="Submit work on a practice: text or code, links, files (multipart)",
)
async def practices_submit(
    practice_id: PracticeRef,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    database: MongoDatabaseDep,
    settings: SettingsDep,
    form: Annotated[SubmissionForm, Form(media_type="multipart/form-data")],
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    practice, course = await service.open_for_submission(
        session=session, user=user, practice_id=practice_id
    )
    checked = await check_files(form.files, settings=settings)

    async def run() -> Outcome:
        submission = await service.submit(
            session=session,
            database=database,
            user=user,
            practice=practice,
            course=course,
            text=form.text,
            links=form.links,
            checked=checked,
            draft=form.draft,
        )
        return Outcome.of(submission.model_dump(mode="json"), status=status.HTTP_201_CREATED)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body={
            "text": form.text,
            "links": form.links,
            "draft": form.draft,
            "files": [f.fingerprint() for f in checked],
        },
        run=run,
    )


@router.post(
    "/submissions/{submission_id}/submit",
    responses=problem_responses(403, 404, WrongSubmissionStatus),
    summary="Submit my draft: it joins the review queue",
)
async def submissions_submit(
    submission_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> SubmissionPublic:
    return await service.submit_draft(session=session, user=user, submission_id=submission_id)


@router.get(
    "/users/me/submissions", tags=["me"], summary="My submissions, every version (keyset pages)"
)
async def me_submissions_list(
    user: CurrentUser,
    session: SessionDep,
    paging: Paging,
    practice_id: Annotated[
        str | None, Query(pattern=content_id_pattern("practice"), max_length=200)
    ] = None,
    state: Annotated[SubmissionStatus | None, Query(alias="status")] = None,
) -> Page[SubmissionPublic]:
    rows = await service.mine(
        session=session,
        user=user,
        practice_id=practice_id,
        status=state,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(rows, key=lambda row: [str(row.id)])


@router.get(
    "/submissions/{submission_id}",
    responses=problem_responses(404),
    summary="One of my submissions, with its review",
)
async def submissions_get(
    submission_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> SubmissionPublic:
    return await service.one_of_mine(session=session, user=user, submission_id=submission_id)


@router.get(
    "/submissions/{submission_id}/files/{file_id}",
    response_class=StreamingResponse,
    responses={**problem_responses(404), **FILE_RESPONSE},
    summary="Download a file of my submission",
)
async def submissions_download(
    submission_id: uuid.UUID,
    file_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    database: MongoDatabaseDep,
) -> StreamingResponse:
    row, chunks = await service.my_file(
        session=session,
        database=database,
        user=user,
        submission_id=submission_id,
        file_id=file_id,
    )
    return _file_response(row, chunks)


def _queue_key(key: list[Any]) -> tuple[datetime, uuid.UUID]:
    return key_datetime(key[0]), uuid.UUID(str(key[1]))


@router.get(
    "/review/submissions",
    responses=problem_responses(403),
    summary="The homework review queue: the work, never who did it (keyset pages)",
)
async def review_submissions_list(
    reviewer: ReviewerUser,
    session: SessionDep,
    paging: Paging,
    state: Annotated[
        Literal["submitted", "in_review", "reviewed", "returned"], Query(alias="status")
    ] = "submitted",
    course_id: CourseFilter = None,
    practice_id: PracticeFilter = None,
) -> Page[SubmissionToReview]:
    items = await review.queue(
        session=session,
        status=state,
        course_id=course_id,
        practice_id=practice_id,
        after=paging.after(_queue_key),
        limit=paging.limit,
    )
    return paging.page(items, key=lambda item: [item.submitted_at.isoformat(), str(item.id)])


@router.get(
    "/review/submissions/{review_id}",
    responses=problem_responses(403, 404),
    summary="One submission to review",
)
async def review_submissions_get(
    review_id: uuid.UUID, reviewer: ReviewerUser, session: SessionDep
) -> SubmissionToReview:
    return await review.item(session=session, review_id=review_id)


@router.get(
    "/review/submissions/{review_id}/files/{file_id}",
    response_class=StreamingResponse,
    responses={**problem_responses(403, 404), **FILE_RESPONSE},
    summary="Download a file of a submission under review",
)
async def review_submissions_download(
    review_id: uuid.UUID,
    file_id: uuid.UUID,
    reviewer: ReviewerUser,
    session: SessionDep,
    database: MongoDatabaseDep,
) -> StreamingResponse:
    row, chunks = await review.review_file(
        session=session, database=database, review_id=review_id, file_id=file_id
    )
    return _file_response(row, chunks)


@router.post(
    "/review/submissions/{review_id}",
    responses=problem_responses(403, 404, OwnSubmission, WrongSubmissionStatus),
    summary="Start a review, review (score, rubric, comments) or return with what to fix",
)
async def review_submissions_act(
    review_id: uuid.UUID, data: ReviewAction, reviewer: ReviewerUser, session: SessionDep
) -> SubmissionToReview:
    return await review.act(
        session=session, reviewer=reviewer, review_id=review_id, action=data.root
    )
