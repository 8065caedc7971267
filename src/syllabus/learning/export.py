"""The learner's enrollments and lesson progress, for ``GET /users/me/export``."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.export import export_section, rows_of_user
from syllabus.learning.models import Enrollment, LessonProgress


@export_section("enrollments")
async def _enrollments(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(session, Enrollment, user_id)


@export_section("lesson_progress")
async def _lesson_progress(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(session, LessonProgress, user_id)
