"""Catalog queries (PostgreSQL only)."""

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Text,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from syllabus.catalog.models import TEXT_SEARCH_CONFIGS, Category, Course, Track

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
    sort_value: Any = None
    """The value the list was sorted by (with the id: the page key)."""
    highlight: "Highlight | None" = None


@dataclass(frozen=True)
class Highlight:
    """``ts_headline`` of the title (whole) and of the description (its best fragments),
    matches between :data:`MARK_START` and :data:`MARK_END`."""

    title: str
    description: str


SortKey = Literal["relevance", "created", "title", "updated", "price", "popularity"]
MARK_START, MARK_END = "\ue000", "\ue001"
"""Private-use characters around each match in a headline: no text contains them, so
the service can escape the text and then turn them into markup."""
PREFIX_LEXEME = r"'(?:[^'\\]|''|\\.)*'"
"""A quoted lexeme in a tsquery's text form (quotes and backslashes doubled)."""
LIVE_ENROLLMENTS = table("enrollments", column("course_id"), column("status"), column("deleted_at"))
"""Read in SQL for the popularity sort, like ``progress`` reads attempts: catalog never
imports ``learning``."""


@dataclass(frozen=True)
class CourseFilters:
    published_only: bool
    category: str | None = None
    track: str | None = None
    level: str | None = None
    language: str | None = None
    is_free: bool | None = None
    currency: str | None = None
    query: str | None = None
    exam_type: str | None = None
    subject: str | None = None
    grade: int | None = None


@dataclass(frozen=True)
class CourseOrder:
    key: SortKey
    descending: bool


def _or(queries: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    return reduce(lambda left, right: left.op("||")(right), queries)


def _as_prefixes(query: ColumnElement[Any]) -> ColumnElement[Any]:
    """The same tsquery with every lexeme a prefix (``'analy'`` → ``'analy':*``), its
    operators (and, or, not, phrase) kept."""
    text_form = func.regexp_replace(cast(query, Text), PREFIX_LEXEME, r"\&:*", "g")
    return cast(text_form, TSQUERY)


def _typed(words: str) -> ColumnElement[Any]:
    """The words as typed, each a prefix: matches the ``simple`` half of the vector."""
    return _as_prefixes(func.websearch_to_tsquery(cast("simple", REGCONFIG), words))


def search_prefilter(words: str, *, language: str | None) -> ColumnElement[Any]:
    """Whole words stemmed in every course language's configuration (only the filtered
    language's when there is one), or any word as a prefix of a word as written: a
    constant, so the GIN index answers it. It finds every course :func:`_row_query`
    matches, and some more (a ``-word`` that one stemmer does not cut like the course's
    own), which the row query then drops."""
    configs = sorted({*TEXT_SEARCH_CONFIGS.values(), "simple"})
    if language is not None:
        configs = [TEXT_SEARCH_CONFIGS.get(language, "simple")]
    stemmed = [func.websearch_to_tsquery(cast(config, REGCONFIG), words) for config in configs]
    return _or([*stemmed, _typed(words)])


def _row_query(words: str) -> ColumnElement[Any]:
    """The words stemmed in the course's own language, or as prefixes of words as
    written: what a course must match, and what ranks it."""
    stems = func.websearch_to_tsquery(func.search_config(col(Course.language)), words)
    return _or([stems, _typed(words)])


def _headline(document: Any, words: str, options: str) -> ColumnElement[str]:
    """Matches marked in ``document``: its words as written against the words typed
    and, as prefixes, their stems in the course's language (``логарифм`` marks
    ``логарифмов``)."""
    stems = func.websearch_to_tsquery(func.search_config(col(Course.language)), words)
    query = _or([_as_prefixes(stems), _typed(words)])
    marks = f'StartSel="{MARK_START}", StopSel="{MARK_END}", {options}'
    return func.ts_headline(cast("simple", REGCONFIG), document, query, marks)


PRICE_DIGITS = 19
"""Digits of the amount in the price sort key: any bigint, zero-padded."""
PRICE_KEY = re.compile(rf"(?:[A-Z]{{3}})?:[0-9]{{{PRICE_DIGITS}}}")
"""What a ``price`` sort key looks like (a cursor's value is checked against it)."""


def _price_key() -> ColumnElement[str]:
    """The ``price`` sort: amounts are compared only within one currency (4900 USD cents
    and 299000 RUB kopecks are not comparable numbers). The key is ``<ISO 4217>:<amount,
    zero-padded>``, and ``:<zeros>`` for a free course (free in any currency, so all of
    them first), compared byte by byte (collation "C"): free courses, then each currency
    in code order as a block, cheapest first within it; ``-price`` reverses the whole.
    One string, so the keyset cursor stays one value."""
    amount = func.coalesce(col(Course.price_cents), 0)
    currency = case((amount == 0, literal("")), else_=col(Course.currency))
    padded = func.lpad(cast(amount, Text), PRICE_DIGITS, "0")
    return func.concat(currency, ":", padded).collate("C")


def _sort_expression(order: CourseOrder, rank: ColumnElement[float] | None) -> Any:
    if order.key == "relevance":
        assert rank is not None
        return rank
    if order.key == "title":
        return col(Course.title)
    if order.key == "updated":
        return col(Course.content_updated_at)
    if order.key == "price":
        return _price_key()
    if order.key == "popularity":
        return (
            select(func.count())
            .where(
                LIVE_ENROLLMENTS.c.course_id == col(Course.id),
                LIVE_ENROLLMENTS.c.status.in_(("active", "completed")),
                LIVE_ENROLLMENTS.c.deleted_at.is_(None),
            )
            .correlate(Course)
            .scalar_subquery()
        )
    return None  # created: the id alone (UUIDv7 is creation order)


def _conditions(filters: CourseFilters) -> list[ColumnElement[bool]]:
    """One condition per filter given."""
    price = func.coalesce(col(Course.price_cents), 0)
    given = [
        (filters.published_only, col(Course.status) == "published"),
        (filters.category is not None, col(Category.slug) == filters.category),
        (filters.track is not None, col(Track.slug) == filters.track),
        (filters.level is not None, col(Course.level) == filters.level),
        (filters.language is not None, col(Course.language) == filters.language),
        (filters.is_free is True, price == 0),
        (filters.is_free is False, price > 0),
        (filters.currency is not None, col(Course.currency) == filters.currency),
        (filters.exam_type is not None, col(Course.exam_type) == filters.exam_type),
        (filters.subject is not None, col(Course.subject) == filters.subject),
        (filters.grade is not None, col(Course.grade) == filters.grade),
    ]
    return [condition for wanted, condition in given if wanted]


async def list_courses(
    session: AsyncSession,
    *,
    filters: CourseFilters,
    order: CourseOrder,
    limit: int,
    after: tuple[Any, uuid.UUID] | None,
) -> list[CourseRow]:
    """Courses in ``order`` (the id breaking ties, in the same direction), filtered and,
    with a query, matched and highlighted; ``limit + 1`` rows."""
    query = _course_rows().where(*_conditions(filters))
    rank: ColumnElement[float] | None = None
    if filters.query:
        tsquery = _row_query(filters.query)
        rank = func.ts_rank(col(Course.search), tsquery).cast(Float)
        prefilter = search_prefilter(filters.query, language=filters.language)
        query = query.where(
            col(Course.search).op("@@")(prefilter), col(Course.search).op("@@")(tsquery)
        ).add_columns(
            _headline(col(Course.title), filters.query, "HighlightAll=true"),
            _headline(
                col(Course.description),
                filters.query,
                'MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=" … "',
            ),
        )
    sort = _sort_expression(order, rank)
    course_id = col(Course.id)
    if sort is None:  # creation order
        if after is not None:
            query = query.where(course_id < after[1] if order.descending else course_id > after[1])
        query = query.order_by(course_id.desc() if order.descending else course_id)
    else:  # ties in creation order, whichever way the key goes
        if after is not None:
            value, last_id = after
            beyond = sort < value if order.descending else sort > value
            query = query.where(or_(beyond, and_(sort == value, course_id > last_id)))
        query = query.order_by(sort.desc() if order.descending else sort, course_id)
    if sort is not None:
        query = query.add_columns(sort)
    rows = (await session.execute(query.limit(limit + 1))).all()
    return [
        CourseRow(
            course=row[0],
            category=row[1],
            track=row[2],
            sort_value=row[-1] if sort is not None else None,
            highlight=Highlight(row[3], row[4]) if filters.query else None,
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
    return [CourseRow(course=r[0], category=r[1], track=r[2]) for r in rows]


async def get_course(session: AsyncSession, content_id: str) -> CourseRow | None:
    row = (
        await session.execute(_course_rows().where(col(Course.content_id) == content_id))
    ).first()
    return None if row is None else CourseRow(course=row[0], category=row[1], track=row[2])


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
