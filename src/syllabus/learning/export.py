"""The learner's enrollments, lesson progress, time spent and practices done, for
``GET /users/me/export`` (courses named by their ``course:…`` id)."""

from syllabus.catalog.repository import course_content_id
from syllabus.identity.export import export_table
from syllabus.learning.models import Enrollment, LessonProgress, LessonTime, PracticeProgress

export_table("enrollments", Enrollment, ids={"course_id": course_content_id})
export_table("lesson_progress", LessonProgress, ids={"course_id": course_content_id})
export_table("lesson_time", LessonTime, ids={"course_id": course_content_id})
export_table("practice_progress", PracticeProgress, ids={"course_id": course_content_id})
