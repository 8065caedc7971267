"""Preferences in the user's data export, and gone with their account (erasure)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.export import export_table
from syllabus.preferences import repository
from syllabus.preferences.models import UserPreferences

export_table("preferences", UserPreferences)


async def erase(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``identity.hooks.account_erased``: preferences are personal; the defaults need no row."""
    await repository.delete(session, user_id)
