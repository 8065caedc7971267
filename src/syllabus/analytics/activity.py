"""The one way learner events are recorded: a row in the append-only activity log, in
the same transaction as the change it describes (so it is never lost or invented)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus import tables  # noqa: F401 - every table mapped: the log's foreign keys resolve
from syllabus.learning.models import ActivityLog


def record_activity(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID,
    verb: str,
    object_type: str,
    object_id: str,
    course_id: uuid.UUID | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    session.add(
        ActivityLog(
            actor_id=actor_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            course_id=course_id,
            result=result,
        )
    )
