"""Many activity events in one INSERT. ``record_activity`` adds ORM objects, and the ORM
inserts activity rows one statement each (their UUID key is no insert sentinel and their
server-set timestamps are read back), so sealing a batch of attempts, or awarding a
batch of achievements, would cost a statement per event."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.db.sql import current_actor
from syllabus.kit.ids import uuid7
from syllabus.learning.models import ActivityLog


@dataclass(frozen=True)
class Event:
    """One row of the activity log, as ``record_activity`` takes it."""

    verb: str
    object_type: str
    object_id: str
    course_id: uuid.UUID | None = None
    result: dict[str, Any] | None = None


async def record_events(
    session: AsyncSession, *, actor_id: uuid.UUID, events: Sequence[Event]
) -> None:
    """The same rows ``record_activity`` would write (ids, audit columns, a JSON null
    result), in ONE statement, after whatever was recorded before (flushed first)."""
    if not events:
        return
    await session.flush()
    stamp = current_actor.get()  # what the audit hook stamps on a flushed row
    rows = [
        {
            "id": uuid7(),
            "created_by": stamp,
            "updated_by": stamp,
            "actor_id": actor_id,
            "verb": event.verb,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "course_id": event.course_id,
            "result": event.result,
        }
        for event in events
    ]
    await session.execute(insert(ActivityLog).values(rows))
