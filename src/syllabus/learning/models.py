"""What a learner did. Lessons are referenced by stable content id, courses by the
catalog row, so analysts can answer progress questions in SQL alone."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN

ENROLLMENT_STATUSES = ("active", "completed", "cancelled")
PROGRESS_STATUSES = ("started", "completed")
MAX_NOTE_LENGTH = 10_000


class Enrollment(Base, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'completed', 'cancelled')", name="status"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_at"),
        # At most one live (not cancelled, not deleted) enrollment per learner and course;
        # cancelled ones stay as history, so re-enrolling after a cancel is possible.
        Index(
            "uq_enrollments_user_id_course_id_live",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled' AND deleted_at IS NULL"),
        ),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    status: str = Field(default="active", sa_column_kwargs={"server_default": "active"})
    enrolled_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    completed_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )


class LessonProgress(Base, table=True):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_content_id"),
        CheckConstraint("status IN ('started', 'completed')", name="status"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_at"),
        CheckConstraint(f"lesson_content_id ~ '^lesson:{SLUG_PATTERN}$'", name="lesson_id"),
        CheckConstraint(f"length(note) <= {MAX_NOTE_LENGTH}", name="note_length"),
        Index("ix_lesson_progress_course_id_user_id", "course_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    course_id: uuid.UUID = Field(foreign_key="courses.id")  # leads the composite index
    lesson_content_id: str
    status: str = Field(default="started", sa_column_kwargs={"server_default": "started"})
    completed_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    bookmarked: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    note: str | None = None
    position: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


VERBS = (
    "registered",
    "enrolled",
    "started",
    "completed",
    "attempted",
    "passed",
    "failed",
    "earned",
    "cancelled",
)


class ActivityLog(Base, table=True):
    """What learners did, one row per event, shaped like an xAPI statement (actor, verb,
    object, result, context). Append-only: the database refuses updates. Streaks are
    computed from it; analysts read it."""

    __tablename__ = "activity_log"
    __table_args__ = (
        CheckConstraint(f"verb IN ({', '.join(repr(v) for v in VERBS)})", name="verb"),
        CheckConstraint(
            "object_type IN ('course', 'lesson', 'quiz', 'practice', 'achievement', 'user')",
            name="object_type",
        ),
        Index("ix_activity_log_actor_id_occurred_at", "actor_id", "occurred_at"),
        Index("ix_activity_log_occurred_at_brin", "occurred_at", postgresql_using="brin"),
    )

    actor_id: uuid.UUID = Field(foreign_key="users.id")  # leads the composite index
    verb: str
    object_type: str
    object_id: str
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    occurred_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
