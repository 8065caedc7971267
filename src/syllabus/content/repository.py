"""The one PostgreSQL query of a quiz read: the quiz's place in the catalog with its
content key (``content_index.version`` and ``content_hash``), its course, and the
viewer's facts ``access`` decides on (role, entitlement, live enrollment)."""

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from syllabus.access.repository import ENROLLED_SQL, ENTITLED_SQL


@dataclass(frozen=True, slots=True)
class ItemState:
    """What PostgreSQL knows of a current course item for one viewer."""

    content_key: tuple[int, str | None]
    """``(version, content_hash)``: what the read must serve (the content cache's key)."""
    course: str
    course_status: str
    paid: bool
    viewer_role: str | None
    entitled: bool
    enrolled: bool


QUIZ_STATE = text(
    f"""
    SELECT i.version, i.content_hash, c.content_id, c.status,
           coalesce(c.price_cents, 0) > 0 AS paid,
           (SELECT u.role FROM users u WHERE u.id = :user AND u.deleted_at IS NULL) AS role,
           {ENTITLED_SQL} AS entitled, {ENROLLED_SQL} AS enrolled
    FROM content_index i JOIN courses c ON c.id = i.course_id AND c.deleted_at IS NULL
    WHERE i.content_id = :item AND i.item_type = 'quiz'
      AND i.status = 'active' AND i.deleted_at IS NULL
    """
)


async def quiz_state(
    connection: AsyncConnection, *, quiz_id: str, viewer_id: uuid.UUID | None
) -> ItemState | None:
    """One query; None when the quiz is in no current outline."""
    row = (await connection.execute(QUIZ_STATE, {"item": quiz_id, "user": viewer_id})).first()
    if row is None:
        return None
    return ItemState(
        content_key=(int(row.version), row.content_hash),
        course=row.content_id,
        course_status=row.status,
        paid=bool(row.paid),
        viewer_role=row.role,
        entitled=bool(row.entitled),
        enrolled=bool(row.enrolled),
    )
