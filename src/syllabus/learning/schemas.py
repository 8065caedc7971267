"""Enrollments, progress and stats as the API shows them."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from typing_extensions import TypeAliasType

from syllabus.catalog.schemas import CoursePublic
from syllabus.content.schemas import CourseOutline, OutlineItem, OutlineModule
from syllabus.kit.ids import CourseId
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.learning.models import MAX_NOTE_LENGTH, EnrollmentStatus, ProgressStatus

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
    course_id: CourseId


class AdminEnrollmentCreate(InputSchema):
    user_id: uuid.UUID
    course_id: CourseId


class EnrollmentPublic(OutputSchema):
    id: uuid.UUID
    course: CoursePublic
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    percent_complete: float


class ProgressUpdate(InputSchema):
    status: ProgressStatus
    bookmarked: bool | None = None
    note: Annotated[str, Field(max_length=MAX_NOTE_LENGTH)] | None = None
    position: Position | None = None


class ProgressPublic(OutputSchema):
    lesson_id: str
    course_id: str
    status: ProgressStatus
    completed_at: datetime | None
    bookmarked: bool
    note: str | None
    position: Position | None
    updated_at: datetime
    course_completed: bool = Field(description="This write completed the course.")


class PracticeDone(InputSchema):
    status: Literal["completed"] = Field(description="A practice is only ever marked done.")


class PracticeProgressPublic(OutputSchema):
    practice_id: str
    course_id: str
    status: Literal["completed"]
    completed_at: datetime
    course_completed: bool = Field(description="This write completed the course.")


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


class LessonNote(OutputSchema):
    lesson_id: str
    course_id: str
    title: str
    bookmarked: bool
    note: str | None
    updated_at: datetime
