"""Quiz attempts and their results. An attempt keeps its full answer snapshot in
``details`` so a grade can be explained later without the content as it is today, and
the pass mark and scoring policy of the version it showed, which ``progress``'s rules
read; once submitted it never changes (a trigger refuses it).

``quiz_results`` holds the result versions of each submitted attempt, append-only
(DECISIONS 15): version 1 is the grade at submission, written by the database in the
statement that seals the attempt (migration 0035); a regrade appends the next one. The
highest version is the attempt's result: the view ``quiz_attempt_results`` pairs each
attempt with it, and ``progress``'s quiz-passed rule reads that view."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import ScoringPolicy, sql_in, values

SCORE_TYPE = Numeric(12, 4)
SCORING_POLICIES = values(ScoringPolicy)
ResultReason = Literal["sealed", "regrade"]


class QuizAttempt(Base, table=True):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_content_id", "attempt_no"),
        CheckConstraint(f"quiz_content_id ~ '^quiz:{SLUG_PATTERN}$'", name="quiz_id"),
        CheckConstraint("attempt_no >= 1", name="attempt_no"),
        CheckConstraint("max_score IS NULL OR max_score >= 0", name="max_score"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= max_score)", name="score"),
        CheckConstraint(
            "submitted_at IS NULL OR submitted_at >= started_at", name="submitted_after_start"
        ),
        CheckConstraint(sql_in("scoring_policy", SCORING_POLICIES), name="scoring_policy"),
        Index("ix_quiz_attempts_quiz_content_id", "quiz_content_id"),
        # At most one open (unsubmitted) attempt per learner and quiz.
        Index(
            "uq_quiz_attempts_user_id_quiz_content_id_open",
            "user_id",
            "quiz_content_id",
            unique=True,
            postgresql_where=text("submitted_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    # user_id is covered by the leading column of the unique constraint.
    user_id: uuid.UUID = Field(foreign_key="users.id")
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    quiz_content_id: str
    attempt_no: int
    started_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    submitted_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    score: Decimal | None = Field(default=None, sa_type=SCORE_TYPE)
    max_score: Decimal | None = Field(default=None, sa_type=SCORE_TYPE)
    passed: bool | None = None
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    quiz_version: int | None = None
    deadline: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    questions: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONB)
    saved_answers: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    pass_percent: Decimal | None = Field(default=None, sa_type=Numeric(7, 4))
    scoring_policy: str | None = None


class QuizResult(Base, table=True):
    """One result version of a submitted attempt: its score, whether it passed (by
    ``quiz_attempt_passed()`` and the attempt's pass mark), and the points of each
    question with the question version whose key graded it."""

    __tablename__ = "quiz_results"
    __table_args__ = (
        UniqueConstraint("attempt_id", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("max_score >= 0 AND score >= 0 AND score <= max_score", name="score"),
        CheckConstraint(sql_in("reason", values(ResultReason)), name="reason"),
        CheckConstraint("jsonb_typeof(question_points) = 'array'", name="question_points"),
    )

    # attempt_id is covered by the leading column of the unique constraint.
    attempt_id: uuid.UUID = Field(foreign_key="quiz_attempts.id")
    version: int
    score: Decimal = Field(sa_type=SCORE_TYPE)
    max_score: Decimal = Field(sa_type=SCORE_TYPE)
    passed: bool
    question_points: list[dict[str, Any]] = Field(sa_type=JSONB)
    reason: str
