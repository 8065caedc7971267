"""Enrollments, progress and stats as the API shows them."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field
from pydantic.config import JsonDict
from typing_extensions import TypeAliasType

from syllabus.catalog.schemas import CoursePublic, CourseRefField
from syllabus.content.schemas import CourseOutline, LessonPublic, OutlineItem, OutlineModule
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.kit.vocabulary import ItemType
from syllabus.learning.models import (
    HEARTBEAT_LEAD_SECONDS,
    MAX_NOTE_LENGTH,
    MAX_SESSION_SECONDS,
    EnrollmentStatus,
    ProgressStatus,
)
from syllabus.progress.schemas import WriteEffects

MAX_POSITION_BYTES = 4096


def _small(position: dict[str, Any]) -> dict[str, Any]:
    """A resume position is a bookmark into a lesson, not storage: it is kept for every
    lesson of every learner and sent back with every outline."""
    size = len(json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_POSITION_BYTES:
        raise ValueError(f"must be at most {MAX_POSITION_BYTES} bytes as JSON, not {size}")
    return position


Position = TypeAliasType(
    "Position",
    Annotated[
        dict[str, Any],
        Field(
            max_length=20,
            description="Where to resume inside a lesson: a JSON object the client defines "
            '(e.g. `{"block": "b3", "offset": 120}`), at most 20 keys and 4 KiB.',
        ),
        AfterValidator(_small),
    ],
)
"""One named schema in OpenAPI for every place a resume position appears."""


class EnrollmentCreate(InputSchema):
    course_id: CourseRefField


class AdminEnrollmentCreate(InputSchema):
    user_id: uuid.UUID
    course_id: CourseRefField


class EnrollmentPublic(OutputSchema):
    id: uuid.UUID
    course: CoursePublic
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    percent_complete: float


def _never_null(schema: JsonDict) -> None:
    """Documented as optional but not nullable: a generated client gets a plain enum
    (``null`` is still read as absent, and a body of nothing else is refused)."""
    options = schema.pop("anyOf", [])
    assert isinstance(options, list)
    schema.update(next(o for o in options if isinstance(o, dict) and o.get("type") != "null"))


class Heartbeat(InputSchema):
    """Time spent in one session with the lesson open (DECISIONS 13). The client makes a
    ``session_id`` when the lesson is opened and sends, every so often, the session's
    cumulative active seconds so far; the server keeps the largest total per session, so
    a retried, repeated or late heartbeat never counts twice."""

    session_id: uuid.UUID = Field(description="Made by the client for one visit of the lesson.")
    seconds: int = Field(
        ge=1,
        le=MAX_SESSION_SECONDS,
        description="The session's total so far, not an increment. It may not run ahead of "
        "the server's clock since the session's first heartbeat by more than "
        f"{HEARTBEAT_LEAD_SECONDS} s (refused, 422); a session longer than "
        f"{MAX_SESSION_SECONDS} s starts a new one.",
    )


class ProgressUpdate(InputSchema):
    """Absent fields are kept. Without ``status`` the write saves a bookmark, a note or
    time spent only: it neither starts the lesson nor counts toward a streak."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "started", "position": {"block": "b3"}},
                {"bookmarked": True},
                {"note": "Come back to the caching part."},
                {
                    "time_spent": {
                        "session_id": "01939b4e-7f3a-7c2e-9d1a-3f5e8b2c4d6a",
                        "seconds": 90,
                    }
                },
            ]
        }
    )

    status: ProgressStatus | None = Field(default=None, json_schema_extra=_never_null)
    bookmarked: bool | None = None
    note: Annotated[str, Field(max_length=MAX_NOTE_LENGTH)] | None = None
    position: Position | None = Field(
        default=None,
        description="Where to resume inside the lesson (client-defined); needs `status`.",
    )
    time_spent: Heartbeat | None = Field(
        default=None, description="A heartbeat: this session's time on the lesson so far."
    )


class ProgressPublic(WriteEffects):
    lesson_id: str
    course_id: str
    status: ProgressStatus | None = Field(
        description="Null while only a bookmark or note was saved (the lesson not started)."
    )
    completed_at: datetime | None
    bookmarked: bool
    note: str | None
    position: Position | None
    time_spent_seconds: int = Field(description="My time on this lesson, all sessions summed.")
    updated_at: datetime


class PracticeDone(InputSchema):
    status: Literal["completed"] = Field(description="A practice is only ever marked done.")


class PracticeProgressPublic(WriteEffects):
    practice_id: str
    course_id: str
    status: Literal["completed"]
    completed_at: datetime


class Resume(OutputSchema):
    item_id: str
    position: Position | None = None


class ItemProgress(OutlineItem):
    status: Literal["not_started", "started", "completed", "passed"]
    bookmarked: bool
    position: Position | None


class ModuleProgress(OutlineModule):
    items: list[ItemProgress]  # type: ignore[assignment]


class Rollup(OutputSchema):
    percent_complete: float
    completed_required: int
    total_required: int
    resume: Resume | None
    last_activity_at: datetime | None
    enrollment_status: EnrollmentStatus


class OutlineWithProgress(CourseOutline):
    modules: list[ModuleProgress]  # type: ignore[assignment]
    progress: Rollup | None = Field(description="Present when the caller is enrolled.")


class CourseProgress(OutputSchema):
    course_id: str
    title: str
    enrollment_status: EnrollmentStatus
    percent_complete: float
    completed_required: int
    total_required: int
    last_activity_at: datetime | None
    resume: Resume | None
    time_spent_seconds: int = Field(description="My time on the course's lessons, summed.")


class LessonNote(OutputSchema):
    lesson_id: str
    course_id: str
    title: str
    bookmarked: bool
    note: str | None
    updated_at: datetime


class ModuleRef(OutputSchema):
    id: str
    title: str
    order: int


class ItemRef(OutputSchema):
    id: str
    type: ItemType
    title: str


class MyLessonProgress(OutputSchema):
    status: Literal["not_started", "started", "completed"]
    bookmarked: bool
    note: str | None
    position: dict[str, Any] | None
    updated_at: datetime | None = Field(description="Null until I first record anything.")


class LessonWithProgress(LessonPublic):
    """A lesson with where it sits in its course and, for a signed-in caller, their own
    record of it: one request renders a lesson page with its navigation."""

    module: ModuleRef
    previous: ItemRef | None = Field(description="The item before it in the outline.")
    next: ItemRef | None = Field(description="The item after it in the outline.")
    progress: MyLessonProgress | None = Field(description="Null when not signed in.")
