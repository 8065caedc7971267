"""The writer of the activity log: rows in the append-only ``activity_log``, in the
same transaction as the change they describe (so none is lost or invented). The one
other writer is the lesson progress write's server-side function
(``save_lesson_progress()``, migration 0037), which logs its events inside its single
statement with the same columns.

It lives in the base and knows no domain: verbs and object types are data, checked by
the table itself (``progress/models.py`` owns the table, its verbs and the rules that
read it), so any layer, identity's sign-up included, records its events here without
importing a domain.

Rows are written with one Core INSERT however many there are: the ORM would insert
activity rows one statement each (their UUID key is no insert sentinel and their
server-set timestamps are read back), so sealing a batch of quiz attempts, or awarding a
batch of achievements, would cost a statement per event."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Uuid, column, insert, table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.db.sql import current_actor
from syllabus.kit.ids import uuid7

ACTIVITY_LOG = table(
    "activity_log",
    column("id", Uuid),
    column("created_by", Uuid),
    column("updated_by", Uuid),
    column("actor_id", Uuid),
    column("verb", String),
    column("object_type", String),
    column("object_id", String),
    column("course_id", Uuid),
    column("result", JSONB(none_as_null=False)),
)
"""The columns the writer fills; the rest are server defaults. A test holds this to the
table ``progress`` declares, so the two cannot drift apart."""


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
    await session.execute(insert(ACTIVITY_LOG).values(rows))


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
