"""Study plans in PostgreSQL: the plan (whose, for which course or exam), its versions
(each generation, with what it was asked and the pace chosen; a regeneration adds one
and keeps the others) and each version's dated items. Whether an item is done is never
stored here: it is read from progress when the plan is read (service.py)."""

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, SmallInteger, UniqueConstraint
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import sql_in, values
from syllabus.studyplans.planner import ItemKind

ITEM_KINDS = values(ItemKind)
MIN_MINUTES_PER_DAY = 10
MAX_MINUTES_PER_DAY = 600


class StudyPlan(Base, table=True):
    """A learner's plan for a course, or for an exam (``exam_id``; ``course_id`` is then
    the exam's course, whose work the plan lays out)."""

    __tablename__ = "study_plans"
    __table_args__ = (
        CheckConstraint(f"exam_id ~ '^exam:{SLUG_PATTERN}$'", name="exam_id"),
        Index("ix_study_plans_user_id_id", "user_id", "id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the index
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    exam_id: str | None = None


class StudyPlanVersion(Base, table=True):
    """One generation of a plan: what was asked (target date, minutes per day), from
    which day, the daily pace the planner chose and which planner it was."""

    __tablename__ = "study_plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            f"minutes_per_day BETWEEN {MIN_MINUTES_PER_DAY} AND {MAX_MINUTES_PER_DAY}",
            name="minutes_per_day",
        ),
        CheckConstraint("target_date > starts_on", name="target_date"),
        CheckConstraint("daily_minutes BETWEEN 1 AND minutes_per_day", name="daily_minutes"),
    )

    plan_id: uuid.UUID = Field(foreign_key="study_plans.id")  # leads the unique constraint
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    version: int
    target_date: date = Field(sa_type=Date)
    minutes_per_day: int = Field(sa_type=SmallInteger)
    starts_on: date = Field(sa_type=Date)
    """The learner's today (in their time zone) when the version was made: its day 0."""
    daily_minutes: int = Field(sa_type=SmallInteger)
    planner: str
    """Which planner laid it out (``sequential``: planner.py)."""


class StudyPlanItem(Base, table=True):
    """One dated thing to do: a lesson, practice or quiz of the course, the exam, or the
    revision of a weak competency (``competency_id``); a long item is split into parts."""

    __tablename__ = "study_plan_items"
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        CheckConstraint(sql_in("kind", ITEM_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'revision') = (competency_id IS NOT NULL) "
            "AND (kind = 'revision') = (content_id IS NULL)",
            name="target",
        ),
        CheckConstraint(
            "content_id IS NULL OR content_id ~ ('^' || kind || ':[a-z0-9]+(-[a-z0-9]+)*$')",
            name="content_id",
        ),
        CheckConstraint("minutes >= 1", name="minutes"),
        CheckConstraint("part BETWEEN 1 AND parts", name="part"),
    )

    version_id: uuid.UUID = Field(foreign_key="study_plan_versions.id")  # leads the unique
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    position: int
    day: date = Field(sa_type=Date)
    kind: str
    content_id: str | None = None
    competency_id: uuid.UUID | None = Field(default=None, foreign_key="competencies.id", index=True)
    minutes: int = Field(sa_type=SmallInteger)
    part: int = Field(default=1, sa_type=SmallInteger)
    parts: int = Field(default=1, sa_type=SmallInteger)
