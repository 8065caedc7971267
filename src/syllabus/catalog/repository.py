"""Catalog queries (PostgreSQL only)."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from syllabus.catalog.models import Category, Course, Track

NameKey = tuple[str, uuid.UUID]
"""Where a page of a list sorted by name ends: the last name and id (names repeat)."""


async def list_categories(
    session: AsyncSession, *, after: NameKey | None, limit: int
) -> list[Category]:
    """Categories by name, ``limit + 1`` rows."""
    key = tuple_(col(Category.name), col(Category.id))
    query = select(Category).order_by(col(Category.name), col(Category.id)).limit(limit + 1)
    if after is not None:
        query = query.where(key > tuple_(*after))
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class TrackRow:
    track: Track
    category: str
    """The category's slug."""


async def list_tracks(
    session: AsyncSession, *, after: NameKey | None, limit: int
) -> list[TrackRow]:
    """Tracks by name with their category's slug, ``limit + 1`` rows."""
    key = tuple_(col(Track.name), col(Track.id))
    query = (
        select(Track, col(Category.slug))
        .join(Category)
        .order_by(col(Track.name), col(Track.id))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(key > tuple_(*after))
    return [TrackRow(track, slug) for track, slug in (await session.execute(query)).all()]


@dataclass(frozen=True)
class CourseRow:
    course: Course
    category: str
    track: str | None
    rank: float | None


@dataclass(frozen=True)
class CourseFilters:
    published_only: bool
    category: str | None = None
    track: str | None = None
    level: str | None = None
    query: str | None = None
    exam_type: str | None = None
    subject: str | None = None
    grade: int | None = None


def _search_query(text: str) -> ColumnElement[object]:
    """English and Russian stemming both apply: a match in either language counts."""
    return func.websearch_to_tsquery("english", text).op("||")(
        func.websearch_to_tsquery("russian", text)
    )


async def list_courses(
    session: AsyncSession,
    *,
    filters: CourseFilters,
    limit: int,
    after: tuple[float | None, uuid.UUID] | None,
) -> list[CourseRow]:
    """Courses in creation order, or by relevance when searching; ``limit + 1`` rows."""
    rank: ColumnElement[float] | None = None
    query = (
        select(Course, col(Category.slug), col(Track.slug))
        .join(Category, col(Category.id) == col(Course.category_id))
        .outerjoin(Track, col(Track.id) == col(Course.track_id))
    )
    if filters.published_only:
        query = query.where(col(Course.status) == "published")
    if filters.category:
        query = query.where(col(Category.slug) == filters.category)
    if filters.track:
        query = query.where(col(Track.slug) == filters.track)
    if filters.level:
        query = query.where(col(Course.level) == filters.level)
    if filters.exam_type:
        query = query.where(col(Course.exam_type) == filters.exam_type)
    if filters.subject:
        query = query.where(col(Course.subject) == filters.subject)
    if filters.grade is not None:
        query = query.where(col(Course.grade) == filters.grade)
    if filters.query:
        tsquery = _search_query(filters.query)
        rank = func.ts_rank(col(Course.search), tsquery).cast(Float)
        query = query.add_columns(rank).where(col(Course.search).op("@@")(tsquery))
        query = query.order_by(rank.desc(), col(Course.id))
        if after is not None:
            last_rank, last_id = after
            query = query.where(
                or_(rank < last_rank, and_(rank == last_rank, col(Course.id) > last_id))
            )
    else:
        query = query.order_by(col(Course.id))
        if after is not None:
            query = query.where(col(Course.id) > after[1])
    rows = (await session.execute(query.limit(limit + 1))).all()
    return [
        CourseRow(
            course=row[0],
            category=row[1],
            track=row[2],
            rank=float(row[3]) if rank is not None else None,  # type: ignore[misc]
        )
        for row in rows
    ]


def _course_rows() -> Any:
    return (
        select(Course, col(Category.slug), col(Track.slug))
        .join(Category, col(Category.id) == col(Course.category_id))
        .outerjoin(Track, col(Track.id) == col(Course.track_id))
    )


async def courses_by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> list[CourseRow]:
    rows = await session.execute(_course_rows().where(col(Course.id).in_(ids)))
    return [CourseRow(course=r[0], category=r[1], track=r[2], rank=None) for r in rows]


async def get_course(session: AsyncSession, content_id: str) -> CourseRow | None:
    row = (
        await session.execute(_course_rows().where(col(Course.content_id) == content_id))
    ).first()
    return (
        None if row is None else CourseRow(course=row[0], category=row[1], track=row[2], rank=None)
    )


async def statuses(session: AsyncSession, content_ids: Collection[str]) -> dict[str, str]:
    """The publication status of each of these courses that exists (one query)."""
    rows = await session.execute(
        select(col(Course.content_id), col(Course.status)).where(
            col(Course.content_id).in_(list(content_ids))
        )
    )
    return {row[0]: row[1] for row in rows}


def course_content_id(course_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The ``course:…`` id of the course whose key is in ``course_id`` (a SQL expression,
    for reads that show other tables' rows in the API's ids, like the data export)."""
    return (
        select(col(Course.content_id))
        .where(col(Course.id) == course_id)
        .correlate_except(Course)
        .scalar_subquery()
    )
