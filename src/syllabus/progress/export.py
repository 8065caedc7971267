"""The learner's achievements and activity log, for ``GET /users/me/export``."""

from syllabus.catalog.repository import course_content_id
from syllabus.identity.export import export_table
from syllabus.progress.models import ActivityLog, UserAchievement

export_table("achievements", UserAchievement)
export_table("activity", ActivityLog, owner="actor_id", ids={"course_id": course_content_id})
