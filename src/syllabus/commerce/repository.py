"""Commerce queries (PostgreSQL only)."""

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import Category
from syllabus.commerce.models import Plan
from syllabus.kit.ids import uuid7


async def list_plans(session: AsyncSession) -> list[tuple[Plan, str | None]]:
    """Every live plan with its category's slug, by price then code (a handful)."""
    query = (
        select(Plan, col(Category.slug))
        .outerjoin(Category, col(Category.id) == col(Plan.category_id))
        .order_by(col(Plan.period), col(Plan.price_minor), col(Plan.code))
    )
    return [(plan, slug) for plan, slug in (await session.execute(query)).all()]


async def get_plan(session: AsyncSession, code: str) -> tuple[Plan, str | None] | None:
    query = (
        select(Plan, col(Category.slug))
        .outerjoin(Category, col(Category.id) == col(Plan.category_id))
        .where(col(Plan.code) == code)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def category_id(session: AsyncSession, slug: str) -> uuid.UUID | None:
    query = select(col(Category.id)).where(col(Category.slug) == slug)
    return (await session.execute(query)).scalar()


async def insert_plan(session: AsyncSession, values: dict[str, object]) -> Plan | None:
    """A new plan, or None when the code is taken (retired plans keep theirs)."""
    statement = insert(Plan).values(id=uuid7(), **values).on_conflict_do_nothing()
    result = await session.execute(select(Plan).from_statement(statement.returning(Plan)))
    return result.scalar()
