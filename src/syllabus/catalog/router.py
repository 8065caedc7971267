"""``/categories``, ``/tracks``, ``/courses`` (the catalog, from PostgreSQL)."""

import uuid
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query

from syllabus.catalog import service
from syllabus.catalog.repository import NameKey
from syllabus.catalog.schemas import (
    MAX_SEARCH_LENGTH,
    MAX_SEARCH_NEGATIONS,
    CategoryPublic,
    CoursePublic,
    CourseRef,
    SearchText,
    TrackPublic,
)
from syllabus.deps import SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import ANONYMOUS_TOO, SIGNED_IN_PROBLEMS, OptionalUser
from syllabus.kit.ids import Slug
from syllabus.kit.pagination import Page, Paging
from syllabus.kit.vocabulary import CourseLevel, ExamType

T = TypeVar("T")

router = APIRouter(tags=["catalog"], responses=problem_responses(*SIGNED_IN_PROBLEMS))


def _name_key(key: list[object]) -> NameKey:
    name, last_id = key
    if not isinstance(name, str):
        raise TypeError
    return name, uuid.UUID(str(last_id))


def _keyed_page(paging: Paging, rows: list[tuple[NameKey, T]]) -> Page[T]:
    """A page of rows sorted by name, each given with its key."""
    return paging.page(rows, key=lambda row: [row[0][0], str(row[0][1])]).map(lambda row: row[1])


@router.get("/categories", summary="Categories, by name (keyset pages)")
async def categories_list(session: SessionDep, paging: Paging) -> Page[CategoryPublic]:
    rows = await service.categories(
        session=session, after=paging.after(_name_key), limit=paging.limit
    )
    return _keyed_page(paging, rows)


@router.get("/tracks", summary="Tracks with their category, by name (keyset pages)")
async def tracks_list(session: SessionDep, paging: Paging) -> Page[TrackPublic]:
    rows = await service.tracks(session=session, after=paging.after(_name_key), limit=paging.limit)
    return _keyed_page(paging, rows)


def _parse_cursor(key: list[object]) -> tuple[float | None, uuid.UUID]:
    rank, last_id = key
    if rank is not None and not isinstance(rank, int | float):
        raise TypeError
    return (None if rank is None else float(rank)), uuid.UUID(str(last_id))


@router.get(
    "/courses",
    openapi_extra=ANONYMOUS_TOO,
    summary="Courses: filter, search (full text), keyset pages",
)
async def courses_list(
    session: SessionDep,
    viewer: OptionalUser,
    paging: Paging,
    category: Slug | None = None,
    track: Slug | None = None,
    level: CourseLevel | None = None,
    exam_type: ExamType | None = None,
    subject: Slug | None = None,
    grade: Annotated[int | None, Query(ge=1, le=11, description="School grade, 1-11.")] = None,
    q: Annotated[
        SearchText | None,
        Query(
            max_length=MAX_SEARCH_LENGTH,
            description="Words in the title or description (web-search syntax: "
            f'`"phrase"`, `or`, `-word`; at most {MAX_SEARCH_NEGATIONS} `-`).',
        ),
    ] = None,
) -> Page[CoursePublic]:
    rows = await service.list_courses(
        session=session,
        viewer=viewer,
        category=category,
        track=track,
        level=level,
        exam_type=exam_type,
        subject=subject,
        grade=grade,
        query=q,
        limit=paging.limit,
        after=paging.after(_parse_cursor),
    )
    page = paging.page(rows, key=lambda row: [row.rank, str(row.course.id)])
    return page.map(service.course_public)


@router.get(
    "/courses/{course_ref}",
    responses=problem_responses(NotFound),
    openapi_extra=ANONYMOUS_TOO,
    summary="One course card",
)
async def courses_get(
    course_ref: CourseRef, session: SessionDep, viewer: OptionalUser
) -> CoursePublic:
    row = await service.visible_course(session=session, viewer=viewer, course_ref=course_ref)
    return service.course_public(row)
