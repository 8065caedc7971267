"""The learner's quiz attempts (with their answer snapshots), for ``GET /users/me/export``."""

from syllabus.assessment.models import QuizAttempt
from syllabus.identity.export import export_table

export_table("quiz_attempts", QuizAttempt)
