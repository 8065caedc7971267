"""Idempotency-key queries: one row per (user, key), kept for :data:`KEEP_FOR`."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.idempotency.models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)


def _expired() -> Any:
    """Rows past :data:`KEEP_FOR`: they replay nothing any more (a reuse runs afresh)."""
    return col(IdempotencyRecord.created_at) <= func.statement_timestamp() - KEEP_FOR


async def lock_key(session: AsyncSession, *, user_id: uuid.UUID, key: str) -> None:
    """Requests with one key queue here (transaction-scoped advisory lock)."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"idem:{user_id}:{key}", 0)))
    )


async def live_record(
    session: AsyncSession, *, user_id: uuid.UUID, key: str
) -> IdempotencyRecord | None:
    """The key's stored answer, unless it has expired (then it is deleted)."""
    mine = (col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key)
    await session.execute(delete(IdempotencyRecord).where(*mine, _expired()))
    return (await session.execute(select(IdempotencyRecord).where(*mine))).scalar_one_or_none()


async def delete_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(IdempotencyRecord).where(_expired()))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_user_keys(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.user_id) == user_id)
    )
