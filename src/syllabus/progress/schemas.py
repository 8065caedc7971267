"""Streaks, points and achievements as the API shows them."""

import uuid
from datetime import datetime

from pydantic import Field

from syllabus.kit.schemas import OutputSchema
from syllabus.kit.vocabulary import Rarity


class Stats(OutputSchema):
    current_streak_days: int
    longest_streak_days: int
    points: int
    level: int
    next_level_points: int
    completed_lessons: int
    completed_courses: int
    time_spent_seconds: int = Field(description="My time on lessons, every course summed.")
    time_zone: str


class AchievementPublic(OutputSchema):
    id: uuid.UUID
    code: str
    title: str
    description: str
    rarity: Rarity


class WriteEffects(OutputSchema):
    """What a learner's write caused, for the client to celebrate without asking again:
    carried by the progress write and the quiz submit."""

    course_completed: bool = Field(description="This write completed the course.")
    achievements_earned: list[AchievementPublic] = Field(
        description="Achievements this write earned (none already held)."
    )


class UserAchievementPublic(OutputSchema):
    achievement: AchievementPublic
    awarded_at: datetime
    seen: bool
