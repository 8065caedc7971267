"""Streaks, points and achievements as the API shows them."""

import uuid
from datetime import datetime

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
    time_zone: str


class AchievementPublic(OutputSchema):
    id: uuid.UUID
    code: str
    title: str
    description: str
    rarity: Rarity


class UserAchievementPublic(OutputSchema):
    achievement: AchievementPublic
    awarded_at: datetime
    seen: bool
