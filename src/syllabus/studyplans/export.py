"""The learner's study plans, their versions and items, for ``GET /users/me/export``,
in the API's ids (a course by its content id, a competency by its code). A plan holds
nothing another person wrote; on erasure it stays, pseudonymous, like other learning
records (docs/competencies.md, "Study plans")."""

from syllabus.catalog.repository import course_content_id
from syllabus.competencies.export import competency_code
from syllabus.identity.export import export_table
from syllabus.studyplans.models import StudyPlan, StudyPlanItem, StudyPlanVersion

export_table("study_plans", StudyPlan, ids={"course_id": course_content_id})
export_table("study_plan_versions", StudyPlanVersion)
export_table("study_plan_items", StudyPlanItem, ids={"competency_id": competency_code})
