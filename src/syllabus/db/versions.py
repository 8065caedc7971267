"""Append-only version tables (DECISIONS 15: quiz and exam results): the rows of one
thing are numbered 1, 2, … and never change; the highest number is the current one."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.db.sql import Base

Versioned = TypeVar("Versioned", bound=Base)


async def latest(
    session: AsyncSession, model: type[Versioned], *, of: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Versioned]:
    """The highest ``version`` row of each of ``ids`` (by the column ``of``): one query
    (DISTINCT ON over the (``of``, version) unique index)."""
    if not ids:
        return {}
    owner: Any = getattr(model, of)
    version: Any = getattr(model, "version")  # noqa: B009 (a column every versioned model has)
    rows = await session.execute(
        select(model).where(owner.in_(ids)).order_by(owner, version.desc()).ext(distinct_on(owner))
    )
    return {getattr(row, of): row for row in rows.scalars().all()}


async def lock_regrade(session: AsyncSession, *, of: str) -> None:
    """One regrade of a quiz or exam (``of``, its stable content id) at a time, held to
    the end of the transaction: a second one waits, then reads the first one's versions
    as the latest and finds nothing left to change (no duplicate version). Take it before
    reading any result."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"regrade:{of}", 0)))
    )
