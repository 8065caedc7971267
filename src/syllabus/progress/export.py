"""The learner's achievements (user_achievements rows), for ``GET /users/me/export``."""

from syllabus.identity.export import export_table
from syllabus.progress.models import UserAchievement

export_table("achievements", UserAchievement)
