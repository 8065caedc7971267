"""``GET /users/me/export``: everything stored about the caller, as one JSON document.

Each domain registers a section with :func:`export_section`; the endpoint only walks the
registry, so data that later features add is exported without touching it.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from syllabus.identity.models import LoginAttempt, RefreshToken, User

ExportSection = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]

_SECTIONS: dict[str, ExportSection] = {}

NEVER_EXPORTED = frozenset({"password_hash", "token_hash"})
"""Secrets derived from the user's credentials: useless to them, dangerous in a file."""


def export_section(name: str) -> Callable[[ExportSection], ExportSection]:
    def register(section: ExportSection) -> ExportSection:
        if name in _SECTIONS:
            raise ValueError(f"export section {name!r} is registered twice")
        _SECTIONS[name] = section
        return section

    return register


def section_names() -> list[str]:
    return sorted(_SECTIONS)


def row_to_dict(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude=set(NEVER_EXPORTED))


async def rows_of_user(
    session: AsyncSession, table: type[SQLModel], user_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every row of ``table`` owned by the user, soft-deleted ones included: it is
    their data until it is purged."""
    column = table.user_id  # type: ignore[attr-defined]
    result = await session.execute(
        select(table).where(column == user_id).order_by(table.id),  # type: ignore[attr-defined]
        execution_options={"include_deleted": True},
    )
    return [row_to_dict(row) for row in result.scalars().all()]


def export_table(name: str, table: type[SQLModel]) -> None:
    """The common case: a section holding every row of a table with a ``user_id``."""

    async def section(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
        return await rows_of_user(session, table, user_id)

    export_section(name)(section)


async def export_user_data(*, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    return {name: await _SECTIONS[name](session, user_id) for name in section_names()}


@export_section("profile")
async def _profile(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any] | None:
    user = await session.get(User, user_id)
    return row_to_dict(user) if user is not None else None


export_table("sessions", RefreshToken)
export_table("sign_in_attempts", LoginAttempt)
