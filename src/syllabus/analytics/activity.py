"""The one way learner events are recorded: rows in the append-only activity log, in
the same transaction as the change they describe (so none is lost or invented).

Rows are written with one Core INSERT however many there are: the ORM would insert
activity rows one statement each (their UUID key is no insert sentinel and their
server-set timestamps are read back), so sealing a batch of quiz attempts, or awarding a
batch of achievements, would cost a statement per event."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus import tables  # noqa: F401 - every table mapped: the log's foreign keys resolve
from syllabus.db.sql import current_actor
from syllabus.kit.ids import uuid7
from syllabus.learning.models import ActivityLog


@dataclass(frozen=True)
class Event:
    """One row of the activity log, less its actor (one actor per write)."""

    verb: str
    object_type: str
    object_id: str
    course_id: uuid.UUID | None = None
    result: dict[str, Any] | None = None


async def record_events(
    session: AsyncSession, *, actor_id: uuid.UUID, events: Sequence[Event]
) -> None:
    """Write the events in ONE statement, in order (time-ordered ids), after whatever the
    session holds pending (flushed first, so the log follows the changes it describes).
    The audit columns get what the flush hook would stamp now; ``result`` None is JSON
    null, as the ORM writes it."""
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


async def record_activity(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID,
    verb: str,
    object_type: str,
    object_id: str,
    course_id: uuid.UUID | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """One event: :func:`record_events` with one row, so every row is written the same
    way (and now, not at some later flush)."""
    await record_events(
        session,
        actor_id=actor_id,
        events=[Event(verb, object_type, object_id, course_id=course_id, result=result)],
    )
