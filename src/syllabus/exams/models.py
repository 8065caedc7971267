"""Exam attempts and everything that hangs off them, in PostgreSQL.

- ``exam_attempts``: who sat which exam version, the drawn variant and its seed, the
  server-owned deadline; sealing writes the answer sheet and its SHA-256 once, and a
  trigger then refuses every UPDATE and DELETE of the row.
- ``exam_answer_events``: every answer save, append-only, each chained to the previous
  one by hash; nothing is ever updated or deleted, nor added to a sealed attempt.
- ``exam_expert_grades``: the queue of expert-graded tasks, one row per sealed attempt
  and task, with the final points once its marks settle them (then it never changes);
- ``exam_expert_marks``: each grader's mark on one of them, append-only; a grader marks a
  task at most once (one mark, or two and a third on a discrepancy: docs/exams.md).
- ``exam_results``: append-only result versions (DECISIONS 15); the highest ``version``
  of an attempt is its result.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Numeric,
    SmallInteger,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import sql_in, values

SCORE_TYPE = Numeric(12, 4)
SealedBy = Literal["submit", "deadline"]
ResultReason = Literal["sealed", "expert", "regrade"]
EXAM_ID_CHECK = f"exam_content_id ~ '^exam:{SLUG_PATTERN}$'"


class ExamAttempt(Base, table=True):
    __tablename__ = "exam_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "exam_content_id", "attempt_no"),
        CheckConstraint(EXAM_ID_CHECK, name="exam_id"),
        CheckConstraint("attempt_no >= 1", name="attempt_no"),
        CheckConstraint("exam_version >= 1", name="exam_version"),
        CheckConstraint("deadline > started_at", name="deadline_after_start"),
        CheckConstraint(sql_in("sealed_by", values(SealedBy)), name="sealed_by"),
        CheckConstraint(
            "(sealed_at IS NULL) = (sheet IS NULL) AND (sealed_at IS NULL) = (sheet_sha256 IS NULL)"
            " AND (sealed_at IS NULL) = (sealed_by IS NULL)",
            name="sealed_whole",
        ),
        CheckConstraint(
            "sheet_sha256 IS NULL OR sheet_sha256 ~ '^[0-9a-f]{64}$'", name="sheet_sha256"
        ),
        Index("ix_exam_attempts_exam_content_id", "exam_content_id"),
        # The sweeper's scan: open attempts by deadline.
        Index(
            "ix_exam_attempts_deadline_open",
            "deadline",
            postgresql_where=text("sealed_at IS NULL AND deleted_at IS NULL"),
        ),
        # At most one open attempt per learner and exam.
        Index(
            "uq_exam_attempts_user_id_exam_content_id_open",
            "user_id",
            "exam_content_id",
            unique=True,
            postgresql_where=text("sealed_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    # user_id is covered by the leading column of the unique constraint.
    user_id: uuid.UUID = Field(foreign_key="users.id")
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    exam_content_id: str
    exam_version: int
    attempt_no: int
    seed: int = Field(sa_type=BigInteger)
    variant: list[dict[str, Any]] = Field(sa_type=JSONB)
    started_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    deadline: datetime = Field(sa_type=DateTime(timezone=True))
    sealed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    sealed_by: str | None = None
    sheet: dict[str, Any] | None = Field(default=None, sa_type=JSONB(none_as_null=True))
    sheet_sha256: str | None = None


class ExamAnswerEvent(Base, table=True):
    __tablename__ = "exam_answer_events"
    __table_args__ = (
        UniqueConstraint("attempt_id", "seq"),
        CheckConstraint("seq >= 1", name="seq"),
        CheckConstraint("task >= 1", name="task"),
        CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="hash"),
        CheckConstraint("prev_hash ~ '^[0-9a-f]{64}$'", name="prev_hash"),
    )

    # attempt_id is covered by the leading column of the unique constraint.
    attempt_id: uuid.UUID = Field(foreign_key="exam_attempts.id")
    seq: int
    task: int
    answer: Any = Field(sa_type=JSONB)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    prev_hash: str
    hash: str


class ExamExpertGrade(Base, table=True):
    """One expert task of one sealed attempt: how many marks it needs (1; 2 with the
    exam's double check; 3 once those two differ by its threshold) and, once they are
    in, the final ``points`` (``graded_at``: when they were settled)."""

    __tablename__ = "exam_expert_grades"
    __table_args__ = (
        UniqueConstraint("attempt_id", "task"),
        CheckConstraint("task >= 1", name="task"),
        CheckConstraint("points IS NULL OR points >= 0", name="points"),
        CheckConstraint("(points IS NULL) = (graded_at IS NULL)", name="graded_whole"),
        CheckConstraint("marks_needed BETWEEN 1 AND 3", name="marks_needed"),
        Index(
            "ix_exam_expert_grades_pending", "created_at", postgresql_where=text("points IS NULL")
        ),
    )

    # attempt_id is covered by the leading column of the unique constraint.
    attempt_id: uuid.UUID = Field(foreign_key="exam_attempts.id")
    exam_content_id: str
    task: int
    max_points: int
    marks_needed: int = Field(
        default=1, sa_type=SmallInteger, sa_column_kwargs={"server_default": text("1")}
    )
    points: int | None = None
    graded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ExamExpertMark(Base, table=True):
    """One grader's mark on one expert task: ``seat`` 1 and 2 are the independent
    graders, 3 the one called on a discrepancy. Written once, never changed."""

    __tablename__ = "exam_expert_marks"
    __table_args__ = (
        UniqueConstraint("grade_id", "seat"),
        UniqueConstraint("grade_id", "grader_id"),
        CheckConstraint("seat BETWEEN 1 AND 3", name="seat"),
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("length(comment) <= 4000", name="comment_length"),
    )

    # grade_id is covered by the leading column of the unique constraints.
    grade_id: uuid.UUID = Field(foreign_key="exam_expert_grades.id")
    seat: int = Field(sa_type=SmallInteger)
    grader_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    points: int
    comment: str = Field(default="", sa_column_kwargs={"server_default": ""})


class ExamResult(Base, table=True):
    __tablename__ = "exam_results"
    __table_args__ = (
        UniqueConstraint("attempt_id", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("primary_score >= 0 AND primary_score <= max_primary", name="primary"),
        CheckConstraint("test_score >= 0", name="test_score"),
        CheckConstraint(sql_in("reason", values(ResultReason)), name="reason"),
        CheckConstraint("final OR passed IS NULL", name="passed_when_final"),
    )

    # attempt_id is covered by the leading column of the unique constraint.
    attempt_id: uuid.UUID = Field(foreign_key="exam_attempts.id")
    version: int
    primary_score: Decimal = Field(sa_type=SCORE_TYPE)
    max_primary: int
    test_score: int
    passed: bool | None = None
    final: bool
    task_points: dict[str, Any] = Field(sa_type=JSONB)
    reason: str
