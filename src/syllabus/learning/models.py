"""What a learner did: enrollments and lesson progress. Lessons are referenced by stable
content id, courses by the catalog row, so analysts can answer progress questions in SQL
alone. The activity log and achievements are ``progress``'s."""

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field
from typing_extensions import TypeAliasType

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import sql_in, values

EnrollmentStatus = TypeAliasType("EnrollmentStatus", Literal["active", "completed", "cancelled"])
"""At most one enrollment per learner and course is live (not cancelled)."""
ProgressStatus = TypeAliasType("ProgressStatus", Literal["started", "completed"])
MAX_NOTE_LENGTH = 10_000


class Enrollment(Base, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (
        CheckConstraint(sql_in("status", values(EnrollmentStatus)), name="status"),
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
        CheckConstraint(sql_in("status", values(ProgressStatus)), name="status"),
        CheckConstraint(
            "coalesce(status = 'completed', false) = (completed_at IS NOT NULL)",
            name="completed_at",
        ),
        CheckConstraint("(status IS NULL) = (started_at IS NULL)", name="started"),
        CheckConstraint(f"lesson_content_id ~ '^lesson:{SLUG_PATTERN}$'", name="lesson_id"),
        CheckConstraint(f"length(note) <= {MAX_NOTE_LENGTH}", name="note_length"),
        Index("ix_lesson_progress_course_id_user_id", "course_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    course_id: uuid.UUID = Field(foreign_key="courses.id")  # leads the composite index
    lesson_content_id: str
    status: str | None = None
    """Null while the learner only bookmarked or annotated the lesson (not started)."""
    started_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    completed_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    bookmarked: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    note: str | None = None
    position: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


class PracticeProgress(Base, table=True):
    """A practice the learner marked done (or whose submission was accepted): the
    practice's points count once it is here (``items_done``, migration 0025)."""

    __tablename__ = "practice_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "practice_content_id"),
        CheckConstraint(f"practice_content_id ~ '^practice:{SLUG_PATTERN}$'", name="practice_id"),
        Index("ix_practice_progress_course_id_user_id", "course_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    course_id: uuid.UUID = Field(foreign_key="courses.id")  # leads the composite index
    practice_content_id: str
    completed_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )


MAX_SESSION_SECONDS = 14_400
"""A session's cumulative total is at most 4 hours: a client reading longer starts a new
session (a new ``session_id``)."""
HEARTBEAT_LEAD_SECONDS = 300
"""How far a session's total may run ahead of the server's clock since its first
heartbeat arrived: the time a client counts before its first heartbeat, plus delays."""


class LessonTime(Base, table=True):
    """Time spent on a lesson in one client session (DECISIONS 13): the session's
    cumulative seconds, the largest total its heartbeats carried, so a retried or
    reordered heartbeat never counts twice. ``created_at`` is when its first heartbeat
    arrived (the clock the totals are held to), ``updated_at`` its last."""

    __tablename__ = "lesson_time"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_content_id", "session_id"),
        CheckConstraint(f"seconds BETWEEN 1 AND {MAX_SESSION_SECONDS}", name="seconds"),
        Index("ix_lesson_time_course_id_user_id", "course_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    course_id: uuid.UUID = Field(foreign_key="courses.id")  # leads the composite index
    lesson_content_id: str
    session_id: uuid.UUID
    seconds: int
