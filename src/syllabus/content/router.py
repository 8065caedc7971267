"""``/quizzes/{id}``, ``/practices/{id}``: content from MongoDB, once the catalog and
``access`` (PostgreSQL) say the caller may see it. Responses carry an ETag. The course
outline and a lesson, which add the learner's progress, are in ``learning.router``."""

from fastapi import APIRouter, Request, Response

from syllabus.access.service import EnrollmentRequired
from syllabus.content import service
from syllabus.content.schemas import PracticePublic, PracticeRef, QuizPublic, QuizRef
from syllabus.deps import SessionDep, read_connection
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import (
    ANONYMOUS_TOO,
    HOT_READ,
    SIGNED_IN_PROBLEMS,
    OptionalUser,
    claims_of,
)
from syllabus.kit.http import cached_json

router = APIRouter(
    tags=["content"],
    responses=problem_responses(*SIGNED_IN_PROBLEMS, EnrollmentRequired, NotFound),
)

hot_router = APIRouter(
    tags=["content"],
    responses=problem_responses(*SIGNED_IN_PROBLEMS, EnrollmentRequired, NotFound),
)
"""The quiz read, matched before every other route (see ``learning.router.hot_router``)."""

CONTENT_RESPONSES: dict[int | str, dict[str, object]] = {304: {"description": "Not Modified"}}


@hot_router.get(
    "/quizzes/{quiz_id}",
    response_model=QuizPublic,
    responses=CONTENT_RESPONSES,
    openapi_extra=HOT_READ,
    summary="A quiz as learners see it (no answer keys)",
)
async def quizzes_get(quiz_id: QuizRef, request: Request) -> Response:
    # A hot read: no dependencies to solve (claims_of, read_connection), see HOT_READ.
    claims = claims_of(request)
    async with read_connection(request) as connection:
        quiz, etag = await service.read_quiz(
            connection=connection, viewer_id=claims.user_id if claims else None, quiz_id=quiz_id
        )
    return cached_json(request, quiz, etag_source=etag)


@router.get(
    "/practices/{practice_id}",
    response_model=PracticePublic,
    responses=CONTENT_RESPONSES,
    openapi_extra=ANONYMOUS_TOO,
    summary="A practice as learners work on it (no reference solution, no checks)",
)
async def practices_get(
    practice_id: PracticeRef, request: Request, session: SessionDep, viewer: OptionalUser
) -> Response:
    practice, etag = await service.open_practice(
        session=session, viewer=viewer, practice_id=practice_id
    )
    return cached_json(request, practice, etag_source=etag)
