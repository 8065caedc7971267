"""HTTP for learning: enrollments, lesson progress, a lesson and the outline with my
progress, and my rollups, bookmarks and notes."""

import hashlib
import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import TypeAdapter, ValidationError

from syllabus.access.service import EnrollmentRequired, PurchaseRequired
from syllabus.catalog.schemas import CourseRef
from syllabus.content.schemas import LessonRef, PracticeRef
from syllabus.db.sql import current_actor, session_scope
from syllabus.deps import (
    SessionDep,
    SessionmakerDep,
    WriteConnectDep,
    read_connection,
    write_driver,
)
from syllabus.errors import NotFound, ValidationFailed, problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, IdempotencyKeyReused, Outcome
from syllabus.identity.deps import (
    HOT_READ,
    SIGNED_IN_PROBLEMS,
    AdminUser,
    CurrentClaims,
    CurrentUser,
    claims_of,
)
from syllabus.identity.service import RoleRequired
from syllabus.kit.http import cached_json
from syllabus.kit.pagination import Page, Paging, uuid_key
from syllabus.kit.routing import FastPathRoute, body_or_none, fast_path
from syllabus.learning import service
from syllabus.learning.repository import activity_key
from syllabus.learning.schemas import (
    AdminEnrollmentCreate,
    CourseProgress,
    EnrollmentCreate,
    EnrollmentPublic,
    LessonNote,
    LessonWithProgress,
    OutlineWithProgress,
    PracticeDone,
    PracticeProgressPublic,
    ProgressPublic,
    ProgressUpdate,
)
from syllabus.learning.service import AlreadyEnrolled, CourseClosed, NotCancellable

router = APIRouter(tags=["learning"], responses=problem_responses(*SIGNED_IN_PROBLEMS))
hot_router = APIRouter(
    tags=["learning"],
    responses=problem_responses(*SIGNED_IN_PROBLEMS),
    route_class=FastPathRoute,
)
"""The hottest routes (a lesson, the outline, the lesson progress PUT): main matches them
before every other route (tests/test_hot_routes.py proves that this order shadows
nothing)."""


@router.post(
    "/enrollments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(PurchaseRequired, NotFound, AlreadyEnrolled, CourseClosed),
    summary="Enroll in a published course (free now; paid ones need a purchase)",
)
async def enrollments_create(
    data: EnrollmentCreate, user: CurrentUser, session: SessionDep
) -> EnrollmentPublic:
    return await service.enroll(session=session, actor=user, user=user, course_ref=data.course_id)


@router.get("/enrollments", summary="My enrollments, with course cards and progress")
async def enrollments_list(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[EnrollmentPublic]:
    items = await service.my_enrollments(
        session=session, user=user, after=paging.after(uuid_key), limit=paging.limit
    )
    return paging.page(items, key=lambda e: [str(e.id)])


@router.post(
    "/enrollments/{enrollment_id}/cancel",
    responses=problem_responses(NotFound, NotCancellable),
    summary="Cancel one of my active enrollments",
)
async def enrollments_cancel(
    enrollment_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> EnrollmentPublic:
    return await service.cancel(session=session, user=user, enrollment_id=enrollment_id)


@router.post(
    "/admin/enrollments",
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=problem_responses(RoleRequired, NotFound, AlreadyEnrolled, CourseClosed),
    summary="Enroll a user (admins; no purchase needed)",
)
async def admin_enrollments_create(
    data: AdminEnrollmentCreate, admin: AdminUser, session: SessionDep
) -> EnrollmentPublic:
    return await service.admin_enroll(
        session=session, admin=admin, user_id=data.user_id, course_ref=data.course_id
    )


LESSON_REF = TypeAdapter(LessonRef)
PROGRESS_JSON = TypeAdapter(ProgressPublic)
"""The PUT's answer, encoded by pydantic-core straight to bytes, the same on every path
(unkeyed, keyed and its replays)."""


def _answer(saved: ProgressPublic) -> Outcome:
    return Outcome(status.HTTP_200_OK, PROGRESS_JSON.dump_json(saved).decode())


async def _progress_save_fast(request: Request) -> Response | None:
    """``progress_save``'s common case without FastAPI's handler (kit/routing.py): an
    unkeyed JSON write by a signed-in caller, the lesson id and the body validated once,
    answered from the one statement's row. ``None`` for anything else, before any write:
    the keyed write (its unit of work) and every refusal stay the declared route's."""
    headers = request.headers
    if "idempotency-key" in headers or headers.get("content-type") != "application/json":
        return None
    body = await body_or_none(request)
    if body is None:
        return None
    try:
        lesson_id = LESSON_REF.validate_python(request.path_params["lesson_id"])
        data = ProgressUpdate.model_validate_json(body)
    except ValidationError:
        return None
    claims = claims_of(request)  # a bad token: the 401 CurrentClaims gives
    if claims is None:
        return None
    async with write_driver(request) as driver:
        saved = await service.save_progress(
            connection=driver, user_id=claims.user_id, lesson_id=lesson_id, data=data
        )
    return Response(PROGRESS_JSON.dump_json(saved), media_type="application/json")


@hot_router.put(
    "/progress/lessons/{lesson_id}",
    response_model=ProgressPublic,
    responses=problem_responses(
        EnrollmentRequired, NotFound, ValidationFailed, IdempotencyKeyReused
    ),
    summary="Record progress on a lesson (idempotent; replayed with Idempotency-Key)",
)
@fast_path(_progress_save_fast)
async def progress_save(
    lesson_id: LessonRef,
    data: ProgressUpdate,
    request: Request,
    claims: CurrentClaims,
    connect: WriteConnectDep,
    sessionmaker: SessionmakerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    # Most writes take the fast path above; what reaches this is keyed, refused, or sent
    # unusually (another Content-Type spelling). Unkeyed: one statement on an autocommit
    # connection (no BEGIN/COMMIT). Keyed: the same statement in a unit of work that
    # stores the answer with the write.
    if idempotency_key is None:
        async with connect() as connection:
            saved = await service.save_progress(
                connection=connection, user_id=claims.user_id, lesson_id=lesson_id, data=data
            )
        return _answer(saved).response()
    async with session_scope(sessionmaker) as session:
        current_actor.set(claims.user_id)

        async def run() -> Outcome:
            saved = await service.save_progress(
                connection=await session.connection(),
                user_id=claims.user_id,
                lesson_id=lesson_id,
                data=data,
            )
            return _answer(saved)

        return await idempotency.answer_once(
            request=request,
            session=session,
            user_id=claims.user_id,
            key=idempotency_key,
            body=data.model_dump(mode="json", exclude_unset=True),
            run=run,
        )


@router.put(
    "/progress/practices/{practice_id}",
    response_model=PracticeProgressPublic,
    responses=problem_responses(403, 404),
    summary="Mark a practice done, so its points count (idempotent; Idempotency-Key replays)",
)
async def progress_practice_done(
    practice_id: PracticeRef,
    data: PracticeDone,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def run() -> Outcome:
        saved = await service.complete_practice(session=session, user=user, practice_id=practice_id)
        return Outcome.of(saved.model_dump(mode="json"))

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@hot_router.get(
    "/lessons/{lesson_id}",
    response_model=LessonWithProgress,
    responses={
        **problem_responses(EnrollmentRequired, NotFound),
        304: {"description": "Not Modified"},
    },
    openapi_extra=HOT_READ,
    summary="A lesson (front matter, MDX source, blocks), its module and neighbours, "
    "and my progress on it",
)
async def lessons_get(lesson_id: LessonRef, request: Request) -> Response:
    # A hot read: no dependencies to solve (claims_of, read_connection), see HOT_READ.
    claims = claims_of(request)
    async with read_connection(request) as connection:
        lesson, etag = await service.open_lesson(
            connection=connection,
            viewer_id=claims.user_id if claims else None,
            lesson_id=lesson_id,
        )
    return cached_json(request, lesson, etag_source=etag)


@hot_router.get(
    "/courses/{course_ref}/outline",
    response_model=OutlineWithProgress,
    responses={**problem_responses(NotFound), 304: {"description": "Not Modified"}},
    openapi_extra=HOT_READ,
    summary="Modules and items of a course, with my progress when I am enrolled",
)
async def courses_outline(course_ref: CourseRef, request: Request) -> Response:
    claims = claims_of(request)
    async with read_connection(request) as connection:
        body, etag_source = await service.outline_with_progress(
            connection=connection,
            viewer_id=claims.user_id if claims else None,
            course_ref=course_ref,
        )
    return cached_json(request, body, etag_source=hashlib.sha256(etag_source.encode()).hexdigest())


@router.get(
    "/users/me/progress",
    tags=["me"],
    summary="The courses I am enrolled in, most recently active first (keyset pages)",
)
async def me_progress(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[CourseProgress]:
    rows = await service.my_progress(
        session=session, user=user, after=paging.after(activity_key), limit=paging.limit
    )
    page = paging.page(rows, key=lambda row: [row[0][0], row[0][1]])
    return page.map(lambda row: row[1])


async def _notes(
    user: CurrentUser, session: SessionDep, paging: Paging, *, bookmarked_only: bool
) -> Page[LessonNote]:
    rows = await service.notes(
        session=session,
        user=user,
        bookmarked_only=bookmarked_only,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(rows, key=lambda row: [str(row[0])]).map(lambda row: row[1])


@router.get("/users/me/bookmarks", tags=["me"], summary="Lessons I bookmarked")
async def me_bookmarks(user: CurrentUser, session: SessionDep, paging: Paging) -> Page[LessonNote]:
    return await _notes(user, session, paging, bookmarked_only=True)


@router.get("/users/me/notes", tags=["me"], summary="My notes on lessons")
async def me_notes(user: CurrentUser, session: SessionDep, paging: Paging) -> Page[LessonNote]:
    return await _notes(user, session, paging, bookmarked_only=False)
