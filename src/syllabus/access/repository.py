"""Access queries. Enrollments belong to ``learning`` (a higher layer), so they are read
here in SQL, by table, never through its models; entitlements are this package's own."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.access.models import Entitlement
from syllabus.kit.ids import uuid7

ONE_TICK = timedelta(microseconds=1)
"""An entitlement ends after it starts (CHECK ``period``), even one that ends at once."""

LIVE_ENROLLMENT = text(
    """
    SELECT EXISTS (
      SELECT FROM enrollments e JOIN courses c ON c.id = e.course_id
      WHERE e.user_id = :user AND c.content_id = :course
        AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL)
    """
)

# An entitlement is current when it has begun, has not ended and is not revoked; it
# covers a course it names, or one in its scope (every paid course, or a category's).
CURRENT_ENTITLEMENT = """
    n.user_id = :user AND n.deleted_at IS NULL AND n.revoked_at IS NULL
    AND n.starts_at <= statement_timestamp()
    AND (n.ends_at IS NULL OR n.ends_at > statement_timestamp())
    AND (n.course_id = c.id
         OR (n.course_id IS NULL AND (n.category_id IS NULL OR n.category_id = c.category_id)))
"""

ENTITLED_SQL = f"EXISTS (SELECT FROM entitlements n WHERE {CURRENT_ENTITLEMENT})"
"""For a query that has the course as ``c`` and the user as ``:user``: the one SQL of
"a current entitlement covers it", for reads that fetch every fact in one round trip
(``service.refuse_open`` decides on it)."""
ENROLLED_SQL = """EXISTS (
    SELECT FROM enrollments e WHERE e.user_id = :user AND e.course_id = c.id
      AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL)"""
"""Likewise: a live (active or completed) enrollment in ``c``."""

ENTITLED = text(f"SELECT {ENTITLED_SQL} FROM courses c WHERE c.content_id = :course")

# For a quiz or an attempt: a live enrollment, and an entitlement when the course is paid.
MAY_TAKE = text(
    f"""
    SELECT EXISTS (
      SELECT FROM enrollments e JOIN courses c ON c.id = e.course_id
      WHERE e.user_id = :user AND c.content_id = :course
        AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL
        AND (coalesce(c.price_cents, 0) = 0 OR :staff
             OR EXISTS (SELECT FROM entitlements n WHERE {CURRENT_ENTITLEMENT})))
    """
)


async def has_live_enrollment(session: AsyncSession, *, user_id: uuid.UUID, course: str) -> bool:
    """An active or completed (not cancelled) enrollment in the course (its content id)."""
    result = await session.execute(LIVE_ENROLLMENT, {"user": user_id, "course": course})
    return bool(result.scalar_one())


async def is_entitled(session: AsyncSession, *, user_id: uuid.UUID, course: str) -> bool:
    """A current entitlement covering the course (its content id)."""
    result = await session.execute(ENTITLED, {"user": user_id, "course": course})
    return bool(result.scalar())


async def may_take(session: AsyncSession, *, user_id: uuid.UUID, course: str, staff: bool) -> bool:
    """A live enrollment, and for a paid course an entitlement (or staff): one query."""
    result = await session.execute(MAY_TAKE, {"user": user_id, "course": course, "staff": staff})
    return bool(result.scalar_one())


async def insert_admin_grant(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> Entitlement | None:
    """A live admin grant, or None when one exists already (the partial unique index)."""
    statement = (
        insert(Entitlement)
        .values(id=uuid7(), user_id=user_id, course_id=course_id, source="admin")
        .on_conflict_do_nothing()
        .returning(Entitlement)
    )
    return (await session.execute(select(Entitlement).from_statement(statement))).scalar()


async def insert_entitlement(session: AsyncSession, entitlement: Entitlement) -> Entitlement:
    """One for a payment or a subscription, or the one they already have (replays)."""
    values = entitlement.model_dump(
        include={
            "id",
            "user_id",
            "source",
            "course_id",
            "category_id",
            "payment_id",
            "subscription_id",
            "ends_at",
        }
    )
    statement = insert(Entitlement).values(**values).on_conflict_do_nothing()
    await session.execute(statement)
    column = (
        col(Entitlement.payment_id)
        if entitlement.payment_id is not None
        else col(Entitlement.subscription_id)
    )
    key = entitlement.payment_id or entitlement.subscription_id
    return (await session.execute(select(Entitlement).where(column == key))).scalar_one()


async def get(session: AsyncSession, entitlement_id: uuid.UUID) -> Entitlement | None:
    return await session.get(Entitlement, entitlement_id)


async def revoke(
    session: AsyncSession,
    *,
    entitlement_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> list[Entitlement]:
    """Revoke the live entitlement named (by id or by its payment): the rows revoked now."""
    statement = (
        update(Entitlement)
        .where(col(Entitlement.revoked_at).is_(None), col(Entitlement.deleted_at).is_(None))
        .values(revoked_at=text("statement_timestamp()"))
        .returning(Entitlement)
    )
    if entitlement_id is not None:
        statement = statement.where(col(Entitlement.id) == entitlement_id)
    if payment_id is not None:
        statement = statement.where(col(Entitlement.payment_id) == payment_id)
    return list(await session.scalars(statement))


async def set_subscription_end(
    session: AsyncSession, *, subscription_id: uuid.UUID, ends_at: datetime
) -> None:
    """A renewed, lapsed or cancelled subscription moves its entitlement's end."""
    await session.execute(
        update(Entitlement)
        .where(col(Entitlement.subscription_id) == subscription_id)
        .values(ends_at=func.greatest(ends_at, col(Entitlement.starts_at) + ONE_TICK))
    )


async def list_for_user(
    session: AsyncSession, *, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[Entitlement]:
    """Every entitlement of the user (current or not), oldest first; ``limit + 1``."""
    query = (
        select(Entitlement)
        .where(col(Entitlement.user_id) == user_id)
        .order_by(col(Entitlement.id))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(col(Entitlement.id) > after)
    return list((await session.execute(query)).scalars())


async def names(session: AsyncSession, rows: list[Entitlement]) -> dict[uuid.UUID, str]:
    """The API's names of the courses (``course:…``) and categories (slug) the rows
    point at, by internal key: one query."""
    ids = {key for row in rows for key in (row.course_id, row.category_id) if key is not None}
    if not ids:
        return {}
    result = await session.execute(
        text(
            "SELECT id, content_id FROM courses WHERE id = ANY(:ids) "
            "UNION ALL SELECT id, slug FROM categories WHERE id = ANY(:ids)"
        ),
        {"ids": list(ids)},
    )
    return {row[0]: row[1] for row in result}


async def end_subscription(session: AsyncSession, *, subscription_id: uuid.UUID) -> None:
    await session.execute(
        update(Entitlement)
        .where(
            col(Entitlement.subscription_id) == subscription_id,
            or_(
                col(Entitlement.ends_at).is_(None),
                col(Entitlement.ends_at) > func.statement_timestamp(),
            ),
        )
        .values(
            ends_at=func.greatest(func.statement_timestamp(), col(Entitlement.starts_at) + ONE_TICK)
        )
    )
