"""Access queries. Enrollments belong to ``learning`` (a higher layer), so they are read
here in SQL, by table, never through its models."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LIVE_ENROLLMENT = text(
    """
    SELECT EXISTS (
      SELECT FROM enrollments
      WHERE user_id = :user AND course_id = :course AND status IN ('active', 'completed')
        AND deleted_at IS NULL)
    """
)


async def has_live_enrollment(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> bool:
    """An active or completed (not cancelled) enrollment in the course."""
    result = await session.execute(LIVE_ENROLLMENT, {"user": user_id, "course": course_id})
    return bool(result.scalar_one())
