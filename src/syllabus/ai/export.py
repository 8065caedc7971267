"""The tutor chat in the user's data export, and gone with their account (erasure)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.ai import repository
from syllabus.ai.models import ChatMessage, ChatSession
from syllabus.catalog.repository import course_content_id
from syllabus.identity.export import export_table

export_table("chat_sessions", ChatSession, ids={"course_id": course_content_id})
export_table("chat_messages", ChatMessage)


async def erase(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``identity.hooks.account_erased``: the learner's chat goes with the account."""
    await repository.erase_user(session, user_id=user_id)
