"""The learner's quiz attempts (with their answer snapshots) and achievements, for
``GET /users/me/export``."""

from syllabus.assessment.models import QuizAttempt, UserAchievement
from syllabus.identity.export import export_table

export_table("quiz_attempts", QuizAttempt)
export_table("achievements", UserAchievement)
