"""The competency framework (loaded from competencies.json), each learner's mastery and
the evidence behind it, and feedback tickets. The mastery method and the gap levels are
defined in :mod:`syllabus.competencies.mastery`; the gap level is a generated column, so
analysts read the same rule the API does."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Index,
    Numeric,
    SmallInteger,
    UniqueConstraint,
    text,
)
from sqlmodel import Field

from syllabus.competencies.mastery import GAP_LEVEL_SQL
from syllabus.db.sql import Base
from syllabus.kit.ids import COMPETENCY_CODE_PATTERN, SLUG_PATTERN
from syllabus.kit.vocabulary import sql_in, values

MASTERY_TYPE = Numeric(5, 4)
POINTS_TYPE = Numeric(12, 4)
EvidenceSource = Literal["quiz", "exam", "submission", "check"]
TicketStatus = Literal["to_do", "in_progress", "done"]
TICKET_STATUSES = values(TicketStatus)


class Competency(Base, table=True):
    """One entry of competencies.json (``parent`` makes the codifier's tree)."""

    __tablename__ = "competencies"
    __table_args__ = (CheckConstraint(f"code ~ '^{COMPETENCY_CODE_PATTERN}$'", name="code"),)

    code: str = Field(unique=True)
    title: str
    description: str = Field(default="", sa_column_kwargs={"server_default": ""})
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="competencies.id", index=True)
    source_id: str | None = None  # the content source that loaded it (content/sources.py)


class CompetencyLink(Base, table=True):
    """A lesson, practice or question that names a competency, in one course: what
    teaches it (lessons: "what to study") and which courses it belongs to."""

    __tablename__ = "competency_links"
    __table_args__ = (
        UniqueConstraint("competency_id", "content_id", "course_id"),
        CheckConstraint(
            "content_id ~ '^(lesson|practice|question):[a-z0-9]+(-[a-z0-9]+)*$'",
            name="content_id",
        ),
        Index("ix_competency_links_course_id_competency_id", "course_id", "competency_id"),
    )

    competency_id: uuid.UUID = Field(foreign_key="competencies.id")  # leads the unique
    content_id: str
    course_id: uuid.UUID = Field(foreign_key="courses.id")


class Mastery(Base, table=True):
    """A learner's mastery of one competency: the decaying average of the shares of
    points earned on its evidence (:mod:`~syllabus.competencies.mastery`)."""

    __tablename__ = "competency_mastery"
    __table_args__ = (
        UniqueConstraint("user_id", "competency_id"),
        CheckConstraint("mastery >= 0 AND mastery <= 1", name="mastery"),
        CheckConstraint("observations >= 1", name="observations"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    competency_id: uuid.UUID = Field(foreign_key="competencies.id", index=True)
    mastery: Decimal = Field(sa_type=MASTERY_TYPE)
    gap_level: int | None = Field(
        default=None,
        sa_column=Column(SmallInteger, Computed(GAP_LEVEL_SQL, persisted=True), nullable=False),
    )
    observations: int = 1
    observed_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )


class Evidence(Base, table=True):
    """One graded item's points counted toward one competency, pointing at the exact
    version of the item and of what contained it (the quiz, the practice)."""

    __tablename__ = "competency_evidence"
    __table_args__ = (
        CheckConstraint(sql_in("source", values(EvidenceSource)), name="source"),
        CheckConstraint("max_points > 0 AND points >= 0 AND points <= max_points", name="points"),
        Index("ix_competency_evidence_user_id_competency_id", "user_id", "competency_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the composite index
    competency_id: uuid.UUID = Field(foreign_key="competencies.id", index=True)
    source: str
    source_id: uuid.UUID = Field(index=True)
    container_id: str
    container_version: int
    item_id: str
    item_version: int
    points: Decimal = Field(sa_type=POINTS_TYPE)
    max_points: Decimal = Field(sa_type=POINTS_TYPE)
    mastery_after: Decimal = Field(sa_type=MASTERY_TYPE)


OPEN_TICKET = "status <> 'done' AND deleted_at IS NULL"
"""The predicate of the partial unique index: at most one open ticket per learner,
competency and item (upserts name it as literal SQL, see the repository)."""


class FeedbackTicket(Base, table=True):
    """A mistake to fix, linked to the competency to revise. At most one open ticket per
    learner, competency and item: a retry that fails again refreshes it."""

    __tablename__ = "feedback_tickets"
    __table_args__ = (
        CheckConstraint(sql_in("status", TICKET_STATUSES), name="status"),
        CheckConstraint(sql_in("source", values(EvidenceSource)), name="source"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
        CheckConstraint("(status = 'done') = (closed_at IS NOT NULL)", name="closed_at"),
        Index(
            "uq_feedback_tickets_user_id_competency_id_item_id_open",
            "user_id",
            "competency_id",
            "item_id",
            unique=True,
            postgresql_where=text(OPEN_TICKET),
        ),
        Index("ix_feedback_tickets_user_id_id", "user_id", "id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the indexes
    competency_id: uuid.UUID = Field(foreign_key="competencies.id", index=True)
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    source: str
    source_id: uuid.UUID
    container_id: str
    container_version: int
    item_id: str
    item_version: int
    description: str
    status: str = Field(default="to_do", sa_column_kwargs={"server_default": "to_do"})
    priority: int = Field(sa_type=SmallInteger)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


MAX_ANSWER_LENGTH = 20_000
"""Characters of an answer sent to an automatic check (a query, a design)."""


class PracticeCheckRun(Base, table=True):
    """One automatic check of a learner's answer to a practice, at the version checked:
    the outcome and the message the learner was given (never the reference). Evidence
    and a feedback ticket of a failed check point at it (``source = 'check'``)."""

    __tablename__ = "practice_check_runs"
    __table_args__ = (
        CheckConstraint(f"practice_content_id ~ '^practice:{SLUG_PATTERN}$'", name="practice_id"),
        CheckConstraint(f"length(answer) <= {MAX_ANSWER_LENGTH}", name="answer_length"),
        Index(
            "ix_practice_check_runs_user_id_practice_content_id", "user_id", "practice_content_id"
        ),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the composite index
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    practice_content_id: str
    practice_version: int
    answer: str
    passed: bool
    message: str
