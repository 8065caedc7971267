"""The learner's quiz attempts (with their answer snapshots) and achievements, for
``GET /users/me/export``."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment.models import QuizAttempt, UserAchievement
from syllabus.identity.export import export_section, rows_of_user


@export_section("quiz_attempts")
async def _quiz_attempts(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(session, QuizAttempt, user_id)


@export_section("achievements")
async def _achievements(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(session, UserAchievement, user_id)
