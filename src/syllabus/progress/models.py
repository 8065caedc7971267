"""What a learner's record is made of beyond their own writes: the activity log (one
append-only row per event) and the achievements they can earn."""

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import Rarity, sql_in, values

Verb = Literal[
    "registered",
    "enrolled",
    "started",
    "completed",
    "attempted",
    "passed",
    "failed",
    "earned",
    "cancelled",
    "purchased",
    "refunded",
    "granted",
    "revoked",
]
VERBS: tuple[Verb, ...] = get_args(Verb)
OBJECT_TYPES = (
    "course",
    "lesson",
    "quiz",
    "practice",
    "achievement",
    "user",
    "entitlement",
    "payment",
)
RARITIES = values(Rarity)


class ActivityLog(Base, table=True):
    """What learners did, one row per event, shaped like an xAPI statement (actor, verb,
    object, result, context). Append-only: the database refuses updates. Written only by
    :mod:`syllabus.db.activity`; streaks are computed from it; analysts read it."""

    __tablename__ = "activity_log"
    __table_args__ = (
        CheckConstraint(sql_in("verb", VERBS), name="verb"),
        CheckConstraint(sql_in("object_type", OBJECT_TYPES), name="object_type"),
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


class Achievement(Base, table=True):
    """Defined by authors (``achievements.json``): the loader hands them over as plain
    data and :func:`syllabus.progress.service.apply_achievements` stores them."""

    __tablename__ = "achievements"
    __table_args__ = (
        CheckConstraint(f"code ~ '^{SLUG_PATTERN}$'", name="code"),
        CheckConstraint(sql_in("rarity", RARITIES), name="rarity"),
        CheckConstraint("jsonb_typeof(rule) = 'object'", name="rule_object"),
    )

    code: str = Field(unique=True)
    title: str
    description: str = Field(default="", sa_column_kwargs={"server_default": ""})
    rarity: str = Field(default="common", sa_column_kwargs={"server_default": "common"})
    rule: dict[str, Any] = Field(sa_type=JSONB)
    source_id: str | None = None  # the content source that loaded it (content/sources.py)


class UserAchievement(Base, table=True):
    __tablename__ = "user_achievements"
    __table_args__ = (UniqueConstraint("user_id", "achievement_id"),)

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the unique constraint
    achievement_id: uuid.UUID = Field(foreign_key="achievements.id", index=True)
    awarded_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    context: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    seen: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
