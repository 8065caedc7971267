"""Exam-prep progress (the seeds' ``exam_courses``): per exam the learner has sat, how
each task number is going, which topics are done, and a predicted test score.

Only attempts whose review is open count (DECISIONS 14: per-task points say which task
was right), the latest ``RECENT`` of them per exam, each at its current result version.
The method (docs/exams.md, "Exam-prep progress"):

- a task's **best share**: the highest points / max_points it earned in those attempts;
- a **topic** is completed when every task of it has a best share of at least
  ``TOPIC_DONE``; tasks without a topic count as their own topic ("task N");
- the **predicted primary score**: per task, the mean share over those attempts, times
  its max points, summed; the **predicted test score** is that primary score on the
  scale of the exam version last sat.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.content import service as content
from syllabus.exams import repository, scoring
from syllabus.exams.models import ExamAttempt, ExamResult
from syllabus.exams.schemas import ExamPrep, TaskPrep
from syllabus.exams.service import review_open

RECENT = 5
TOPIC_DONE = 0.5


async def _sealed(session: AsyncSession, user_id: uuid.UUID) -> list[ExamAttempt]:
    rows = await session.execute(
        select(ExamAttempt)
        .where(col(ExamAttempt.user_id) == user_id, col(ExamAttempt.sealed_at).is_not(None))
        .order_by(col(ExamAttempt.sealed_at).desc())
    )
    return list(rows.scalars().all())


def _prep(
    exam_id: str,
    exam: Mapping[str, Any],
    counted: Sequence[tuple[ExamAttempt, ExamResult]],
) -> ExamPrep:
    shares: dict[int, list[float]] = defaultdict(list)
    for _attempt, result in counted:
        for task in exam["tasks"]:
            points = result.task_points.get(str(task["number"]))
            shares[task["number"]].append(0.0 if points is None else points / task["max_points"])
    tasks = [
        TaskPrep(
            task=task["number"],
            topic=task["topic"] or f"task {task['number']}",
            max_points=task["max_points"],
            best_share=round(max(shares[task["number"]], default=0.0), 4),
        )
        for task in exam["tasks"]
    ]
    topics: dict[str, list[float]] = defaultdict(list)
    for task in tasks:
        topics[task.topic].append(task.best_share)
    primary = sum(
        task["max_points"] * sum(shares[task["number"]]) / len(counted) for task in exam["tasks"]
    )
    return ExamPrep(
        exam_id=exam_id,
        title=exam["title"],
        attempts_counted=len(counted),
        tasks=tasks,
        topics_completed=sum(all(s >= TOPIC_DONE for s in done) for done in topics.values()),
        topics_total=len(topics),
        predicted_primary=round(primary, 2),
        predicted_test_score=scoring.test_score(exam, primary),
    )


async def exam_prep(*, session: AsyncSession, user_id: uuid.UUID) -> list[ExamPrep]:
    """One entry per exam with at least one attempt whose review is open, by exam id."""
    attempts = await _sealed(session, user_id)
    results = await repository.latest_results(session, [a.id for a in attempts])
    exams = await content.snapshots({(a.exam_content_id, a.exam_version) for a in attempts})
    now = datetime.now(UTC)
    counted: dict[str, list[tuple[ExamAttempt, ExamResult]]] = defaultdict(list)
    for attempt in attempts:  # newest first
        exam = exams.get((attempt.exam_content_id, attempt.exam_version))
        result = results.get(attempt.id)
        if exam is None or not review_open(exam, result, now=now):
            continue
        assert result is not None  # review_open says no without one
        if len(counted[attempt.exam_content_id]) < RECENT:
            counted[attempt.exam_content_id].append((attempt, result))
    return [
        _prep(exam_id, exams[(rows[0][0].exam_content_id, rows[0][0].exam_version)], rows)
        for exam_id, rows in sorted(counted.items())
    ]
