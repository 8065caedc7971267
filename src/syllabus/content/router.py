"""``/lessons/{id}``, ``/quizzes/{id}``: content from MongoDB, with the catalog (PostgreSQL)
deciding who may see it. Responses carry an ETag. The course outline, which adds the
learner's progress, is in ``learning.router``."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from syllabus.catalog import service as catalog
from syllabus.content import service
from syllabus.content.schemas import LessonPublic, QuizPublic
from syllabus.deps import SessionDep
from syllabus.errors import Forbidden, Unauthorized, problem_responses
from syllabus.identity.deps import ANONYMOUS_TOO, BEARER, OptionalUser
from syllabus.identity.models import User
from syllabus.kit.http import cached_json
from syllabus.kit.ids import content_id_pattern

router = APIRouter(tags=["content"], responses=problem_responses(401, 403, 404, 422))

LessonRef = Annotated[str, Path(pattern=content_id_pattern("lesson"), max_length=200)]
QuizRef = Annotated[str, Path(pattern=content_id_pattern("quiz"), max_length=200)]
CONTENT_RESPONSES: dict[int | str, dict[str, object]] = {304: {"description": "Not Modified"}}


def _refuse(viewer: User | None, what: str) -> None:
    if viewer is None:
        raise Unauthorized(f"sign in to open this {what}", headers=BEARER)
    raise Forbidden(f"this {what} is part of a paid course: enroll first")


@router.get(
    "/lessons/{lesson_id}",
    response_model=LessonPublic,
    responses=CONTENT_RESPONSES,
    openapi_extra=ANONYMOUS_TOO,
    summary="A lesson: front matter, MDX source and parsed blocks",
)
async def get_lesson(
    lesson_id: LessonRef, request: Request, session: SessionDep, viewer: OptionalUser
) -> Response:
    lesson = await service.lesson_document(lesson_id)
    row = await catalog.visible_course(session=session, viewer=viewer, course_ref=lesson.course_id)
    if not lesson.preview and not await catalog.is_entitled(
        session=session, user=viewer, course=row
    ):
        _refuse(viewer, "lesson")
    return cached_json(
        request,
        service.lesson_public(lesson),
        etag_source=f"{lesson.version}.{lesson.content_hash}",
    )


@router.get(
    "/quizzes/{quiz_id}",
    response_model=QuizPublic,
    responses=CONTENT_RESPONSES,
    openapi_extra=ANONYMOUS_TOO,
    summary="A quiz as learners see it (no answer keys)",
)
async def get_quiz(
    quiz_id: QuizRef, request: Request, session: SessionDep, viewer: OptionalUser
) -> Response:
    quiz = await service.quiz_document(quiz_id)
    row = await catalog.visible_course(session=session, viewer=viewer, course_ref=quiz.course_id)
    if not await catalog.is_entitled(session=session, user=viewer, course=row):
        _refuse(viewer, "quiz")
    public, etag = await service.quiz_with_questions(quiz)
    return cached_json(request, public, etag_source=f"{quiz.version}.{etag}")
