"""SQL of preferences: the caller's row, and one upsert."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.preferences.models import UserPreferences


async def get(session: AsyncSession, user_id: uuid.UUID) -> UserPreferences | None:
    query = select(UserPreferences).where(col(UserPreferences.user_id) == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def save(session: AsyncSession, *, user_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Write the whole set (defaults filled in by the caller) in one statement; two
    concurrent PATCHes each land whole, the later one winning field by field it sent."""
    statement = insert(UserPreferences).values(user_id=user_id, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={name: statement.excluded[name] for name in values},
    )
    await session.execute(statement)


async def delete(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Erasure: the row goes (it is personal, and the defaults need none)."""
    row = await get(session, user_id)
    if row is not None:
        await session.delete(row)
