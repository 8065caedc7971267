"""Exams as a catalog: the exams of the courses the viewer may see, and one exam's
outline (its structure, rubric and scale, never a question: those are drawn at start)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.catalog import service as catalog
from syllabus.content import service as content
from syllabus.content.documents import ExamContent
from syllabus.exams import scoring
from syllabus.exams.schemas import (
    AdaptivePublic,
    CriterionPublic,
    ExamPublic,
    ExamSummary,
    ExpertGradingPublic,
    PartPublic,
    TaskOutline,
)
from syllabus.identity.models import User


def _summary_fields(exam: ExamContent) -> dict[str, Any]:
    return {
        "id": exam.id,
        "course_id": exam.course_id,
        "title": exam.title,
        "version": exam.version,
        "exam_type": exam.exam_type,
        "subject": exam.subject,
        "year": exam.year,
        "duration_seconds": exam.duration_seconds,
        "max_primary": scoring.max_primary(exam.model_dump()),
        "passing_score": exam.passing_score,
        "max_attempts": exam.max_attempts,
        "available_from": exam.available_from,
        "available_until": exam.available_until,
        "review_policy": exam.review_policy,
    }


async def list_exams(
    *, session: AsyncSession, viewer: User | None, course: str | None
) -> list[ExamSummary]:
    """Every current exam of every course the viewer may see (optionally of one course):
    one MongoDB and one SQL query."""
    exams = await content.exams_of(None if course is None else [catalog.content_id_of(course)])
    visible = await catalog.visible_among(
        session=session, viewer=viewer, course_ids={e.course_id for e in exams}
    )
    return [ExamSummary(**_summary_fields(e)) for e in exams if e.course_id in visible]


async def exam_public(*, session: AsyncSession, viewer: User | None, exam_id: str) -> ExamPublic:
    exam, _course = await content.visible_exam(session=session, viewer=viewer, exam_id=exam_id)
    return ExamPublic(
        **_summary_fields(exam),
        grading=ExpertGradingPublic(
            double_check=exam.grading.double_check, threshold=exam.grading.threshold
        ),
        adaptive=None
        if exam.adaptive is None
        else AdaptivePublic(strategy=exam.adaptive.strategy, below=exam.adaptive.below),
        parts=[PartPublic(number=p.number, title=p.title) for p in exam.parts],
        tasks=[
            TaskOutline(
                number=t.number,
                part=t.part,
                max_points=t.max_points,
                grading=t.grading,
                topic=t.topic,
                criteria=[
                    CriterionPublic(points=c.points, description=c.description) for c in t.criteria
                ],
            )
            for t in exam.tasks
        ],
        scale=exam.scale,
    )
