"""The learner's exam attempts, for ``GET /users/me/export``: every attempt with its
dates, drawn variant, sheet hash and current result totals; every answer they saved
(``exam_answer_events``: their own answers, times and the hash chain, which lets them
verify the sheet's log); and every result version with its totals. The sealed sheet and
the per-task points are left out: they say which task was right, which only the exam's
review policy may show (DECISIONS 14); ``GET /exam-attempts/{id}/sheet`` gives them once
it does."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.catalog.repository import course_content_id
from syllabus.exams import repository
from syllabus.exams.models import (
    ExamAnswerEvent,
    ExamAttempt,
    ExamExpertGrade,
    ExamExpertMark,
    ExamResult,
)
from syllabus.identity.export import (
    RowShape,
    export_section,
    not_exported,
    rows_of_user,
    table_of,
)

RESULT_FIELDS = ("version", "primary_score", "max_primary", "test_score", "passed", "final")


@export_section("exam_attempts", tables=[table_of(ExamAttempt).name])
async def _exam_attempts(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await rows_of_user(
        session,
        ExamAttempt,
        user_id,
        ids={"course_id": course_content_id},
        leave_out=("sheet", "seed"),
    )
    results = await repository.latest_results(session, [row["id"] for row in rows])
    return [
        {
            **row,
            "result": None
            if row["id"] not in results
            else {name: getattr(results[row["id"]], name) for name in RESULT_FIELDS},
        }
        for row in rows
    ]


@export_section(
    "exam_answer_events",
    tables=[table_of(ExamAnswerEvent).name],
    shape=RowShape(ExamAnswerEvent),
)
async def _exam_answer_events(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(
        session, ExamAnswerEvent, user_id, through=("attempt_id", ExamAttempt)
    )


@export_section(
    "exam_results",
    tables=[table_of(ExamResult).name],
    shape=RowShape(ExamResult, leave_out=("task_points",)),
)
async def _exam_results(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(
        session,
        ExamResult,
        user_id,
        through=("attempt_id", ExamAttempt),
        leave_out=("task_points",),
    )


not_exported(
    table_of(ExamExpertMark).name,
    "a grader's marks on other people's answers (grader_id is the grader, for audit); the "
    "learner's own points are the result of their exam_attempts",
)
not_exported(
    table_of(ExamExpertGrade).name,
    "the settled points of each expert task of an attempt: per-task points, which only the "
    "exam's review policy may show (DECISIONS 14); the totals are in exam_results",
)
