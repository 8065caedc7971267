"""One row per user who changed a setting; a user without a row has the defaults
(``schemas.DEFAULTS``), so nothing is written on sign-up."""

import uuid
from datetime import time

from sqlalchemy import CheckConstraint, Time
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.vocabulary import sql_in

LANGUAGES = ("ru", "en")
THEMES = ("system", "light", "dark")
MIN_SPEECH_RATE, MAX_SPEECH_RATE = 0.5, 2.0
MAX_DAILY_GOAL_MINUTES = 24 * 60


class UserPreferences(Base, table=True):
    __tablename__ = "user_preferences"
    __table_args__ = (
        CheckConstraint(sql_in("language", LANGUAGES), name="language"),
        CheckConstraint(sql_in("theme", THEMES), name="theme"),
        CheckConstraint(
            f"speech_rate BETWEEN {MIN_SPEECH_RATE} AND {MAX_SPEECH_RATE}", name="speech_rate"
        ),
        CheckConstraint(
            f"daily_goal_minutes BETWEEN 0 AND {MAX_DAILY_GOAL_MINUTES}", name="daily_goal"
        ),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    language: str
    voice: str | None = None
    speech_rate: float
    autoplay: bool
    daily_goal_minutes: int
    reminder_time: time | None = Field(default=None, sa_type=Time(timezone=False))
    """Local time of day in the learner's own time zone (``users.time_zone``)."""
    theme: str
    notify_email: bool
    notify_push: bool
