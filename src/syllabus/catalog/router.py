"""``/categories``, ``/tracks``, ``/courses`` (the catalog, from PostgreSQL)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from syllabus.catalog import service
from syllabus.catalog.schemas import CategoryPublic, CourseLevel, CoursePublic, TrackPublic
from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.identity.deps import OptionalUser
from syllabus.kit.ids import Slug
from syllabus.kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["catalog"], responses=problem_responses(401, 422))

CourseRef = Annotated[
    str,
    Path(
        pattern=service.COURSE_REF,
        max_length=200,
        description="A course id (`course:rest-api-design`) or its slug (`rest-api-design`).",
    ),
]


@router.get("/categories", summary="Every category")
async def list_categories(session: SessionDep) -> list[CategoryPublic]:
    return await service.categories(session=session)


@router.get("/tracks", summary="Every track, with its category")
async def list_tracks(session: SessionDep) -> list[TrackPublic]:
    return await service.tracks(session=session)


def _parse_cursor(key: list[object]) -> tuple[float | None, uuid.UUID]:
    rank, last_id = key
    if rank is not None and not isinstance(rank, int | float):
        raise TypeError
    return (None if rank is None else float(rank)), uuid.UUID(str(last_id))


@router.get("/courses", summary="Courses: filter, search (full text), keyset pages")
async def list_courses(
    session: SessionDep,
    viewer: OptionalUser,
    request: Request,
    response: Response,
    category: Slug | None = None,
    track: Slug | None = None,
    level: CourseLevel | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the title or description.")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[CoursePublic]:
    rows = await service.list_courses(
        session=session,
        viewer=viewer,
        category=category,
        track=track,
        level=level,
        query=q,
        limit=limit,
        after=decode_cursor(cursor, _parse_cursor),
    )
    page = page_of(
        rows,
        limit=limit,
        key=lambda row: [row.rank, str(row.course.id)],
        request=request,
        response=response,
    )
    return Page[CoursePublic](
        items=[service.course_public(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get("/courses/{course_ref}", responses=problem_responses(404), summary="One course card")
async def get_course(
    course_ref: CourseRef, session: SessionDep, viewer: OptionalUser
) -> CoursePublic:
    row = await service.visible_course(session=session, viewer=viewer, course_ref=course_ref)
    return service.course_public(row)
