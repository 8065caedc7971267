"""HTTP for learning: enrollments, lesson progress, the outline with my progress, and my
rollups, bookmarks, notes and stats."""

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from syllabus.catalog.router import CourseRef
from syllabus.deps import ReadSessionDep, SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity import repository as identity_repository
from syllabus.identity.deps import AdminUser, CurrentUser, OptionalClaims
from syllabus.kit.http import cached_json
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.pagination import Cursor, Limit, Page, decode_cursor, page_of
from syllabus.learning import repository, service
from syllabus.learning.schemas import (
    AdminEnrollmentCreate,
    CourseProgress,
    EnrollmentCreate,
    EnrollmentPublic,
    LessonNote,
    OutlineWithProgress,
    ProgressPublic,
    ProgressUpdate,
    Stats,
)

router = APIRouter(tags=["learning"], responses=problem_responses(401, 422))
LessonRef = Annotated[str, Path(pattern=content_id_pattern("lesson"), max_length=200)]


def _uuid_cursor(key: list[object]) -> uuid.UUID:
    return uuid.UUID(str(key[0]))


@router.post(
    "/enrollments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(402, 404, 409),
    summary="Enroll in a published course (free now; paid ones need a purchase)",
)
async def enroll(
    data: EnrollmentCreate, user: CurrentUser, session: SessionDep
) -> EnrollmentPublic:
    return await service.enroll(session=session, actor=user, user=user, course_ref=data.course_id)


@router.get("/enrollments", summary="My enrollments, with course cards and progress")
async def list_enrollments(
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[EnrollmentPublic]:
    items = await service.my_enrollments(
        session=session, user=user, after=decode_cursor(cursor, _uuid_cursor), limit=limit
    )
    return page_of(
        items, limit=limit, key=lambda e: [str(e.id)], request=request, response=response
    )


@router.post(
    "/enrollments/{enrollment_id}/cancel",
    responses=problem_responses(404, 409),
    summary="Cancel one of my active enrollments",
)
async def cancel_enrollment(
    enrollment_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> EnrollmentPublic:
    return await service.cancel(session=session, user=user, enrollment_id=enrollment_id)


@router.post(
    "/admin/enrollments",
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=problem_responses(403, 404, 409),
    summary="Enroll a user (admins; no purchase needed)",
)
async def admin_enroll(
    data: AdminEnrollmentCreate, admin: AdminUser, session: SessionDep
) -> EnrollmentPublic:
    learner = await identity_repository.get_user(session, data.user_id)
    if learner is None:
        raise NotFound("no such user", field="user_id")
    return await service.enroll(
        session=session, actor=admin, user=learner, course_ref=data.course_id, paid_by_admin=True
    )


@router.put(
    "/progress/lessons/{lesson_id}",
    responses=problem_responses(403, 404),
    summary="Record progress on a lesson (idempotent)",
)
async def save_progress(
    lesson_id: LessonRef, data: ProgressUpdate, user: CurrentUser, session: SessionDep
) -> ProgressPublic:
    return await service.save_progress(session=session, user=user, lesson_id=lesson_id, data=data)


@router.get(
    "/courses/{course_ref}/outline",
    response_model=OutlineWithProgress,
    responses={**problem_responses(404), 304: {"description": "Not Modified"}},
    summary="Modules and items of a course, with my progress when I am enrolled",
)
async def get_outline(
    course_ref: CourseRef, request: Request, session: ReadSessionDep, claims: OptionalClaims
) -> Response:
    outline, etag_source = await service.outline_with_progress(
        session=session,
        viewer_id=claims.user_id if claims else None,
        course_ref=course_ref,
    )
    return cached_json(
        request, outline, etag_source=hashlib.sha256(etag_source.encode()).hexdigest()
    )


@router.get("/users/me/progress", tags=["me"], summary="Every course I am enrolled in")
async def my_progress(user: CurrentUser, session: SessionDep) -> list[CourseProgress]:
    return await service.my_progress(session=session, user=user)


async def _notes(
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    *,
    bookmarked_only: bool,
    limit: int,
    cursor: str | None,
) -> Page[LessonNote]:
    rows = await repository.lesson_notes(
        session,
        user_id=user.id,
        bookmarked_only=bookmarked_only,
        after=decode_cursor(cursor, _uuid_cursor),
        limit=limit,
    )
    page = page_of(rows, limit=limit, key=lambda r: [str(r[0])], request=request, response=response)
    return Page[LessonNote](
        items=[
            LessonNote(
                lesson_id=r[1],
                course_id=r[2],
                title=r[3],
                bookmarked=r[4],
                note=r[5],
                updated_at=r[6],
            )
            for r in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/users/me/bookmarks", tags=["me"], summary="Lessons I bookmarked")
async def my_bookmarks(
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[LessonNote]:
    return await _notes(
        user, session, request, response, bookmarked_only=True, limit=limit, cursor=cursor
    )


@router.get("/users/me/notes", tags=["me"], summary="My notes on lessons")
async def my_notes(
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[LessonNote]:
    return await _notes(
        user, session, request, response, bookmarked_only=False, limit=limit, cursor=cursor
    )


@router.get("/users/me/stats", tags=["me"], summary="Streaks, points and level")
async def my_stats(user: CurrentUser, session: SessionDep) -> Stats:
    return await service.stats(session=session, user=user)
