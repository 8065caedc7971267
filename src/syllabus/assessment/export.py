"""The learner's quiz attempts and their result versions, for ``GET /users/me/export``:
every attempt with their own answers, score and dates, every result version with its
totals; of each graded snapshot and each version's per-question points only what the
quiz's review policy lets them see now (DECISIONS 14, :mod:`syllabus.assessment.review`)."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment.models import QuizAttempt, QuizResult
from syllabus.assessment.review import REVIEW_ONLY, AttemptRef, learner_details, reviews_open
from syllabus.catalog.repository import course_content_id
from syllabus.identity.export import RowShape, export_section, rows_of_user, table_of


async def _reviews_open(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Of these attempt rows (one learner's), those whose review is open now."""
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
    return await reviews_open(session, refs)


@export_section(
    "quiz_attempts",
    tables=[table_of(QuizAttempt).name],
    shape=RowShape(QuizAttempt, ids=("course_id",)),
)
async def _quiz_attempts(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await rows_of_user(session, QuizAttempt, user_id, ids={"course_id": course_content_id})
    review_open = await _reviews_open(session, rows)
    return [
        {**row, "details": learner_details(row["details"], review_open=row["id"] in review_open)}
        for row in rows
    ]


@export_section("quiz_results", tables=[table_of(QuizResult).name], shape=RowShape(QuizResult))
async def _quiz_results(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every result version; a question's points and whether it was right only where the
    attempt's review is open (the points possible always)."""
    attempts = await rows_of_user(
        session, QuizAttempt, user_id, leave_out=("details", "questions", "saved_answers")
    )
    review_open = await _reviews_open(session, attempts)
    rows = await rows_of_user(session, QuizResult, user_id, through=("attempt_id", QuizAttempt))
    return [
        row
        if row["attempt_id"] in review_open
        else {
            **row,
            "question_points": [
                {name: value for name, value in entry.items() if name not in REVIEW_ONLY}
                for entry in row["question_points"]
            ],
        }
        for row in rows
    ]
