"""Catalog rules: who sees which course, and what its card says. Who may open its paid
content is ``access``'s question."""

import html
import uuid
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.catalog import repository
from syllabus.catalog.repository import (
    MARK_END,
    MARK_START,
    CourseFilters,
    CourseOrder,
    CourseRow,
    NameKey,
)
from syllabus.catalog.schemas import (
    CategoryPublic,
    CourseHighlight,
    CourseListItem,
    CoursePublic,
    CourseSort,
    TrackPublic,
)
from syllabus.errors import NotFound, ValidationFailed
from syllabus.identity.models import STAFF_ROLES, User, is_staff


def course_public(row: CourseRow) -> CoursePublic:
    course = row.course
    return CoursePublic(
        id=course.content_id,
        slug=course.slug,
        title=course.title,
        description=course.description,
        level=course.level,
        category=row.category,
        track=row.track,
        status=course.status,
        price_cents=course.price_cents,
        is_free=not course.price_cents,
        currency=course.currency,
        language=course.language,
        exam_type=course.exam_type,
        subject=course.subject,
        grade=course.grade,
        lesson_count=course.lesson_count,
        duration_minutes=course.duration_minutes,
        updated_at=course.content_updated_at,
        version=course.version,
    )


async def categories(
    *, session: AsyncSession, after: NameKey | None, limit: int
) -> list[tuple[NameKey, CategoryPublic]]:
    """Categories by name, each with its page key; ``limit + 1`` of them."""
    rows = await repository.list_categories(session, after=after, limit=limit)
    return [((c.name, c.id), CategoryPublic.model_validate(c)) for c in rows]


async def tracks(
    *, session: AsyncSession, after: NameKey | None, limit: int
) -> list[tuple[NameKey, TrackPublic]]:
    """Tracks by name, each with its page key; ``limit + 1`` of them."""
    return [
        (
            (row.track.name, row.track.id),
            TrackPublic(
                slug=row.track.slug,
                name=row.track.name,
                category=row.category,
                description=row.track.description,
            ),
        )
        for row in await repository.list_tracks(session, after=after, limit=limit)
    ]


def course_list_item(row: CourseRow) -> CourseListItem:
    highlight = row.highlight
    return CourseListItem(
        **dict(course_public(row)),
        highlight=None
        if highlight is None
        else CourseHighlight(
            title=_marked(highlight.title), description=_marked(highlight.description)
        ),
    )


def _marked(headline: str) -> str:
    """A headline as HTML: escaped, so a title cannot inject markup, then its matches
    in ``<mark>``."""
    escaped = html.escape(headline)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def course_order(*, sort: CourseSort | None, searching: bool) -> CourseOrder:
    """``sort``, or by default the best matches first when searching, else creation
    order. Relevance needs something to be relevant to."""
    if sort is None:
        sort = "relevance" if searching else "created"
    if sort == "relevance":
        if not searching:
            message = "sort=relevance needs q"
            raise ValidationFailed(
                message,
                errors=[{"field": "sort", "in": "query", "message": message, "type": "sort"}],
            )
        return CourseOrder(key="relevance", descending=True)
    key = sort.removeprefix("-")
    return CourseOrder(key=key, descending=sort.startswith("-"))  # type: ignore[arg-type]


async def list_courses(
    *,
    session: AsyncSession,
    viewer: User | None,
    filters: CourseFilters,
    order: CourseOrder,
    limit: int,
    after: tuple[Any, uuid.UUID] | None,
) -> list[CourseRow]:
    """Staff see drafts and archived courses too; everyone else published ones."""
    filters = replace(filters, published_only=not is_staff(viewer))
    return await repository.list_courses(
        session, filters=filters, order=order, limit=limit, after=after
    )


async def courses_by_ids(*, session: AsyncSession, ids: list[uuid.UUID]) -> list[CourseRow]:
    return await repository.courses_by_ids(session, ids)


def content_id_of(course_ref: str) -> str:
    """``rest-api-design`` or ``course:rest-api-design`` → ``course:rest-api-design``."""
    return course_ref if course_ref.startswith("course:") else f"course:{course_ref}"


def visible_to(status: str, role: str | None) -> bool:
    """Who sees a course: everyone when it is published; drafts and archived courses
    only staff. The one rule; queries that fetch the status alongside other things (the
    outline, a progress write) ask it with the role they fetched."""
    return status == "published" or role in STAFF_ROLES


async def course_if_visible(
    *, session: AsyncSession, viewer: User | None, course_ref: str
) -> CourseRow | None:
    """The course, if the viewer may see it; else None, whether it is hidden or absent,
    so the caller's 404 cannot tell the two apart."""
    row = await repository.get_course(session, content_id_of(course_ref))
    if row is None or not visible_to(row.course.status, viewer.role if viewer else None):
        return None
    return row


async def visible_among(
    *, session: AsyncSession, viewer: User | None, course_ids: Collection[str]
) -> set[str]:
    """Which of these courses (content ids) the viewer may see: one query."""
    found = await repository.statuses(session, course_ids)
    role = viewer.role if viewer else None
    return {course for course, status in found.items() if visible_to(status, role)}


async def visible_course(
    *, session: AsyncSession, viewer: User | None, course_ref: str
) -> CourseRow:
    """A course the viewer may see. Drafts and archived courses exist only for staff:
    everyone else gets the same 404 as for a course that never existed."""
    row = await course_if_visible(session=session, viewer=viewer, course_ref=course_ref)
    if row is None:
        raise NotFound(f"no course {content_id_of(course_ref)}")
    return row
