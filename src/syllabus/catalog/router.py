"""``/categories``, ``/tracks``, ``/courses`` (the catalog, from PostgreSQL)."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query

from syllabus.catalog import service
from syllabus.catalog.repository import PRICE_KEY, CourseFilters, CourseOrder, NameKey
from syllabus.catalog.schemas import (
    MAX_SEARCH_LENGTH,
    MAX_SEARCH_NEGATIONS,
    CategoryPublic,
    CourseListItem,
    CoursePublic,
    CourseRef,
    CourseSort,
    SearchText,
    TrackPublic,
)
from syllabus.deps import SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import ANONYMOUS_TOO, SIGNED_IN_PROBLEMS, OptionalUser
from syllabus.kit.ids import Slug
from syllabus.kit.pagination import InvalidCursor, Page, Paging, key_datetime
from syllabus.kit.standards import CurrencyCode, LanguageTag
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


def _sort_value(order: CourseOrder, value: object) -> Any:
    """A cursor's sort value, of the type its sort compares."""
    if order.key == "created":
        if value is not None:
            raise InvalidCursor("created order has no value")
        return None
    if order.key == "updated":
        return key_datetime(value)
    if order.key == "title":
        if not isinstance(value, str):
            raise InvalidCursor("not a title")
        return value
    if order.key == "relevance":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidCursor("not a rank")
        return float(value)
    if order.key == "price":
        if not isinstance(value, str) or not PRICE_KEY.fullmatch(value):
            raise InvalidCursor("not a price key")
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidCursor("not a count")
    return value


def _cursor_parser(order: CourseOrder, name: str) -> Callable[[list[Any]], tuple[Any, uuid.UUID]]:
    """A cursor holds ``[sort, value, id]``: one issued for another sort is refused."""

    def parse(key: list[Any]) -> tuple[Any, uuid.UUID]:
        sort, value, last_id = key
        if sort != name:
            raise InvalidCursor("issued for another sort")
        return _sort_value(order, value), uuid.UUID(str(last_id))

    return parse


@router.get(
    "/courses",
    openapi_extra=ANONYMOUS_TOO,
    summary="Courses: filter, search as you type (highlighted), sort, keyset pages",
)
async def courses_list(
    session: SessionDep,
    viewer: OptionalUser,
    paging: Paging,
    category: Slug | None = None,
    track: Slug | None = None,
    level: CourseLevel | None = None,
    language: Annotated[
        LanguageTag | None,
        Query(description="Courses taught in this language (BCP 47 primary tag: en, ru)."),
    ] = None,
    is_free: Annotated[
        bool | None, Query(description="true: free courses only; false: paid ones only.")
    ] = None,
    currency: Annotated[
        CurrencyCode | None,
        Query(description="Courses priced in this currency (ISO 4217: USD, RUB)."),
    ] = None,
    exam_type: ExamType | None = None,
    subject: Slug | None = None,
    grade: Annotated[int | None, Query(ge=1, le=11, description="School grade, 1-11.")] = None,
    q: Annotated[
        SearchText | None,
        Query(
            max_length=MAX_SEARCH_LENGTH,
            description="Words in the title or description, each also as the start of a "
            "word (type-ahead: `analy` finds analytics), whole words in any of their "
            'forms; web-search syntax: `"phrase"`, `or`, `-word`; at most '
            f"{MAX_SEARCH_NEGATIONS} `-`. Results carry `highlight`.",
        ),
    ] = None,
    sort: Annotated[
        CourseSort | None,
        Query(
            description="`title`, `updated`, `price`, `popularity` (live enrollments), "
            "`created`; `-` first for descending (`-updated`: newest first). `price` never "
            "compares amounts across currencies: free courses first, then each currency "
            "(ISO 4217 code order) as a block, cheapest first within it; `-price` is the "
            "exact reverse (add `currency` for one currency only). Default: "
            "`relevance` (best match first) with `q`, else `created`. `relevance` "
            "without `q` is a 422: there is nothing to be relevant to."
        ),
    ] = None,
) -> Page[CourseListItem]:
    words = q.strip() if q and q.strip() else None
    order = service.course_order(sort=sort, searching=words is not None)
    name = sort or order.key
    rows = await service.list_courses(
        session=session,
        viewer=viewer,
        filters=CourseFilters(
            published_only=True,
            category=category,
            track=track,
            level=level,
            language=language,
            is_free=is_free,
            currency=currency,
            exam_type=exam_type,
            subject=subject,
            grade=grade,
            query=words,
        ),
        order=order,
        limit=paging.limit,
        after=paging.after(_cursor_parser(order, name)),
    )
    page = paging.page(rows, key=lambda row: [name, row.sort_value, str(row.course.id)])
    return page.map(service.course_list_item)


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
