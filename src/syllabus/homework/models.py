"""Submissions and their files. A submission is one version of a learner's work on one
practice; a resubmission is a new row (``version`` + 1, ``previous_id`` the one before),
so the history stays. The review (score, rubric, comments, or what to fix) is written on
the row it judges. Files live in MongoDB GridFS; a row here points at each by its GridFS
id and records what was checked on the way in (SHA-256, size, media type)."""

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
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN, uuid7
from syllabus.kit.vocabulary import sql_in, values

SubmissionStatus = Literal["draft", "submitted", "in_review", "reviewed", "returned"]
SUBMISSION_STATUSES = values(SubmissionStatus)
OPEN_STATUSES = ("draft", "submitted", "in_review")
"""A learner has at most one open submission per practice (the partial unique index)."""
MAX_SCORE = 100
"""A review's score is a percentage: 0 to 100."""


class Submission(Base, table=True):
    """One version of a learner's work on a practice, and its review."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(sql_in("status", SUBMISSION_STATUSES), name="status"),
        CheckConstraint(f"practice_content_id ~ '^practice:{SLUG_PATTERN}$'", name="practice_id"),
        CheckConstraint("version >= 1 AND practice_version >= 1", name="version"),
        CheckConstraint("(status = 'draft') = (submitted_at IS NULL)", name="submitted_at"),
        CheckConstraint(
            "(status IN ('reviewed', 'returned')) = (reviewed_at IS NOT NULL "
            "AND reviewer_id IS NOT NULL)",
            name="reviewed_at",
        ),
        CheckConstraint(
            f"(status = 'reviewed') = (score IS NOT NULL) AND (score BETWEEN 0 AND {MAX_SCORE})",
            name="score",
        ),
        CheckConstraint("(status = 'returned') = (what_to_fix IS NOT NULL)", name="what_to_fix"),
        UniqueConstraint("user_id", "practice_content_id", "version"),
        UniqueConstraint("review_id"),
        Index(
            "uq_submissions_user_id_practice_content_id_open",
            "user_id",
            "practice_content_id",
            unique=True,
            postgresql_where=sql(f"{sql_in('status', OPEN_STATUSES)} AND deleted_at IS NULL"),
        ),
        Index(
            "ix_submissions_status_submitted_at_review_id", "status", "submitted_at", "review_id"
        ),
        Index("ix_submissions_user_id_id", "user_id", "id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraints
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    practice_content_id: str
    practice_version: int
    version: int = 1
    previous_id: uuid.UUID | None = Field(default=None, foreign_key="submissions.id", index=True)
    review_id: uuid.UUID = Field(
        default_factory=uuid7, sa_column_kwargs={"server_default": sql("uuid_generate_v7()")}
    )
    """What teachers know it by: never the learner's id, nor the id the learner sees."""
    status: str = "submitted"
    text: str = Field(default="", sa_column_kwargs={"server_default": ""})
    """The text or code the learner wrote."""
    links: list[str] = Field(default_factory=list, sa_type=JSONB)
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reviewer_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    reviewed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    score: Decimal | None = Field(default=None, sa_type=Numeric(5, 2))
    rubric: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    """Per criterion: ``{criterion, points, max_points, comment}``."""
    comment: str = Field(default="", sa_column_kwargs={"server_default": ""})
    what_to_fix: str | None = None


class SubmissionFile(Base, table=True):
    """A file of a submission, stored in GridFS under ``gridfs_id``."""

    __tablename__ = "submission_files"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
        CheckConstraint("length(filename) BETWEEN 1 AND 255", name="filename"),
        UniqueConstraint("gridfs_id"),
    )

    submission_id: uuid.UUID = Field(foreign_key="submissions.id", index=True)
    gridfs_id: str
    filename: str
    media_type: str
    size_bytes: int = Field(sa_type=BigInteger)
    sha256: str
