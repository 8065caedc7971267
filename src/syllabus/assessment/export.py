"""The learner's quiz attempts, for ``GET /users/me/export``: every attempt with their own
answers, score and dates, and of each graded snapshot only what the quiz's review policy
lets them see now (DECISIONS 14, :mod:`syllabus.assessment.review`)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment.models import QuizAttempt
from syllabus.assessment.review import AttemptRef, learner_details, reviews_open
from syllabus.catalog.repository import course_content_id
from syllabus.identity.export import RowShape, export_section, rows_of_user, table_of


@export_section(
    "quiz_attempts",
    tables=[table_of(QuizAttempt).name],
    shape=RowShape(QuizAttempt, ids=("course_id",)),
)
async def _quiz_attempts(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await rows_of_user(session, QuizAttempt, user_id, ids={"course_id": course_content_id})
    refs = [
        AttemptRef(
            id=row["id"],
            user_id=row["user_id"],
            quiz_content_id=row["quiz_content_id"],
            quiz_version=row["quiz_version"],
            submitted_at=row["submitted_at"],
        )
        for row in rows
    ]
    review_open = await reviews_open(session, refs)
    return [
        {**row, "details": learner_details(row["details"], review_open=row["id"] in review_open)}
        for row in rows
    ]
