"""Access queries. Enrollments belong to ``learning`` (a higher layer), so they are read
here in SQL, by table, never through its models."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LIVE_ENROLLMENT = text(
    """
    SELECT EXISTS (
      SELECT FROM enrollments e JOIN courses c ON c.id = e.course_id
      WHERE e.user_id = :user AND c.content_id = :course
        AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL)
    """
)


async def has_live_enrollment(session: AsyncSession, *, user_id: uuid.UUID, course: str) -> bool:
    """An active or completed (not cancelled) enrollment in the course (its content id)."""
    result = await session.execute(LIVE_ENROLLMENT, {"user": user_id, "course": course})
    return bool(result.scalar_one())
