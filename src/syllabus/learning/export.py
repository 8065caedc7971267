"""The learner's enrollments and lesson progress, for ``GET /users/me/export``."""

from syllabus.identity.export import export_table
from syllabus.learning.models import Enrollment, LessonProgress

export_table("enrollments", Enrollment)
export_table("lesson_progress", LessonProgress)
