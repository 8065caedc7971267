"""Expert grading and regrades.

The queue (teachers and admins, DECISIONS 3) shows each expert-graded task of each
sealed attempt with the problem, its official answer, the rubric and the learner's
answer, and nothing that names the learner. Each grader marks a task at most once and
sees only their own mark. A task needs one mark, or with the exam's ``double_check``
two independent ones and a third when those differ by the exam's threshold or more
(:func:`syllabus.exams.scoring.settle`); when the marks settle it, its points are final
and evidence for the competencies the task names (``assessment.items_graded``, as the
auto tasks gave at sealing; never a mark a double check may still change),
and when the last expert task of an attempt is settled a final result version is
appended.

A regrade (admins) recomputes every sealed attempt of an exam against the CURRENT
versions of the questions its sheet shows (a key fixed since), with the expert points
given and the scale of the exam version the attempt sat; a dry run reports old and new
scores per attempt; applying it appends a result version to each changed attempt and
corrects the mastery evidence its auto tasks gave (``assessment.items_regraded``, as a
quiz regrade does). The attempt and its sealed sheet never change (DECISIONS 15). Two
regrades of one exam run one after the other (``db.versions.lock_regrade``, the quiz
regrade's lock); the second finds nothing left to change. A regrade locks the exam's
sealed attempts (in id order) before it reads any mark or result, and a mark locks its
attempt first, so a mark and a regrade of one attempt never interleave: the later one
reads what the earlier committed, and the latest version holds every committed mark
and the regrade's corrected auto points.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment.hooks import GradedItem, GradedWork, items_graded, items_regraded
from syllabus.content import service as content
from syllabus.db import versions
from syllabus.errors import Conflict, Forbidden, NotFound, ValidationFailed
from syllabus.exams import repository, scoring
from syllabus.exams.models import ExamAttempt, ExamExpertGrade, ExamExpertMark, ExamResult
from syllabus.exams.schemas import (
    CriterionPublic,
    ExpertProblemForGrader,
    ExpertTaskItem,
    RegradeChange,
    RegradeReport,
    ScoreLine,
)
from syllabus.exams.service import append_result
from syllabus.identity.models import User


class AlreadyGraded(Conflict):
    """Marking an expert task that is settled already, or that you have marked already
    (a grader marks each task once)."""

    title = "Expert task already graded"
    code = "exam-task-graded"


class OwnAnswer(Forbidden):
    """A teacher grading an expert task of their own exam attempt."""

    title = "Own answer"
    code = "exam-own-answer"


async def _exams_of(attempts: Sequence[ExamAttempt]) -> dict[tuple[str, int], dict[str, Any]]:
    """The exam versions these attempts sat (one MongoDB query)."""
    return await content.snapshots({(a.exam_content_id, a.exam_version) for a in attempts})


def _item(
    grade: ExamExpertGrade,
    attempt: ExamAttempt,
    exam: Mapping[str, Any],
    mark: ExamExpertMark | None,
) -> ExpertTaskItem:
    """The task as ``mark``'s grader sees it: their own mark, if any, and no other."""
    task = exam["tasks"][grade.task - 1]
    entry = next(e for e in (attempt.sheet or {})["tasks"] if e["number"] == grade.task)
    problem = next(p for p in task["problems"] if p["id"] == entry["problem_id"])
    return ExpertTaskItem(
        id=grade.id,
        exam_id=grade.exam_content_id,
        task=grade.task,
        max_points=grade.max_points,
        criteria=[CriterionPublic(**c) for c in task["criteria"]],
        problem=ExpertProblemForGrader(
            id=problem["id"],
            prompt=problem["prompt"],
            answer=problem["answer"],
            solution=problem.get("solution", ""),
        ),
        answer=entry["answer"],
        status="pending" if mark is None else "graded",
        points=None if mark is None else mark.points,
        comment="" if mark is None else mark.comment,
        graded_at=None if mark is None else mark.created_at,
    )


async def queue(
    *,
    session: AsyncSession,
    reviewer: User,
    pending: bool,
    course_id: str | None,
    exam_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[ExpertTaskItem]:
    """The reviewer's side of the queue, of one course or exam when asked."""
    rows = await repository.queue_page(
        session,
        reviewer_id=reviewer.id,
        pending=pending,
        course_id=course_id,
        exam_id=exam_id,
        after=after,
        limit=limit,
    )
    exams = await _exams_of([attempt for _, attempt, _ in rows])
    return [
        _item(grade, attempt, exams[(attempt.exam_content_id, attempt.exam_version)], mark)
        for grade, attempt, mark in rows
    ]


def _levels(exam: Mapping[str, Any], task: int) -> list[int]:
    return sorted({0} | {int(c["points"]) for c in exam["tasks"][task - 1]["criteria"]})


async def grade(
    *, session: AsyncSession, grader: User, grade_id: uuid.UUID, points: int, comment: str
) -> ExpertTaskItem:
    """Record ``grader``'s mark on one expert task; settle the task when its marks
    allow, and the attempt's result when it was the last one. The attempt's row is
    locked first, then the task's, so two graders at once take seats one after the
    other, and a regrade of the attempt runs wholly before or after the mark."""
    found = await repository.grade_locked(session, grade_id)
    if found is None:
        raise NotFound("no such expert task", field="grade_id")
    row, attempt = found
    if attempt.user_id == grader.id:
        raise OwnAnswer("you may not grade your own answer")
    marks = await repository.marks_of(session, [row.id])
    if any(m.grader_id == grader.id for m in marks):
        raise AlreadyGraded("you have marked this task already")
    if row.points is not None:
        raise AlreadyGraded("this task is graded already")
    exam = (await _exams_of([attempt]))[(attempt.exam_content_id, attempt.exam_version)]
    levels = _levels(exam, row.task)
    if points not in levels:
        message = f"must be one of the task's criterion points {levels}"
        raise ValidationFailed(
            f"points {message}",
            errors=[{"field": "points", "in": "body", "message": message, "type": "criterion"}],
        )
    mark = ExamExpertMark(
        grade_id=row.id, seat=len(marks) + 1, grader_id=grader.id, points=points, comment=comment
    )
    session.add(mark)
    settings = exam.get("grading") or {}
    final, row.marks_needed = scoring.settle(
        [m.points for m in marks] + [points],
        needed=row.marks_needed,
        threshold=int(settings.get("threshold", scoring.DEFAULT_THRESHOLD)),
    )
    if final is not None:
        row.points, row.graded_at = final, datetime.now(UTC)
    await session.flush()
    if final is not None:
        await items_graded.fire(session, [_settled_work(attempt, exam, row)])
        grades = await repository.grades_of(session, attempt.id)
        if all(g.points is not None for g in grades):
            # The auto points as the latest version has them: a regrade may have
            # corrected the sheet's since (read under the attempt's lock).
            latest = (await repository.latest_results(session, [attempt.id]))[attempt.id]
            auto = {int(task): p for task, p in latest.task_points.items() if p is not None}
            await append_result(
                session,
                attempt=attempt,
                exam=exam,
                task_points=_task_points(attempt, grades, auto),
                reason="expert",
            )
    return _item(row, attempt, exam, mark)


def _settled_work(
    attempt: ExamAttempt, exam: Mapping[str, Any], row: ExamExpertGrade
) -> GradedWork:
    """A settled expert task as evidence for the competencies it names: the problem the
    learner drew (``<exam id>/<problem id>``) at the exam version the attempt sat. Only a
    final mark counts; a first mark that a double check may still change does not."""
    entry = next(e for e in (attempt.sheet or {})["tasks"] if e["number"] == row.task)
    assert row.points is not None
    return _exam_work(
        attempt,
        exam,
        (
            GradedItem(
                item_id=f"{attempt.exam_content_id}/{entry['problem_id']}",
                version=attempt.exam_version,
                points=float(row.points),
                max_points=float(row.max_points),
                competencies=tuple(exam["tasks"][row.task - 1].get("competencies", [])),
            ),
        ),
    )


def _task_points(
    attempt: ExamAttempt,
    grades: Sequence[ExamExpertGrade],
    auto: Mapping[int, float] | None = None,
) -> dict[str, float | None]:
    """Per task: the auto points of the sheet (or ``auto``, recomputed), the expert ones
    given (``None`` while pending)."""
    expert = {g.task: g.points for g in grades}
    points: dict[str, float | None] = {}
    for entry in (attempt.sheet or {})["tasks"]:
        number = int(entry["number"])
        if entry["grading"] == "expert":
            given = expert.get(number)
            points[str(number)] = None if given is None else float(given)
        else:
            points[str(number)] = (auto or {}).get(number, entry["points"])
    return points


def _line(result: ExamResult) -> ScoreLine:
    return ScoreLine(
        primary_score=float(result.primary_score),
        test_score=result.test_score,
        passed=result.passed,
    )


async def regrade(*, session: AsyncSession, exam_id: str, dry_run: bool) -> RegradeReport:
    """Regrade the exam's sealed attempts against the current keys; a dry run writes
    nothing. Two at once run one after the other (the lock), as quiz regrades do."""
    await content.exam_document(exam_id)  # 404 for an unknown or archived exam
    await versions.lock_regrade(session, of=exam_id)
    attempts = await repository.sealed_of_exam(session, exam_id)
    latest = await repository.latest_results(session, [a.id for a in attempts])
    grades = await repository.grades_of_attempts(session, [a.id for a in attempts])
    question_ids = sorted(
        {e["question_id"] for a in attempts for e in (a.sheet or {})["tasks"] if "question_id" in e}
    )
    current = await content.current_versions(question_ids)
    refs: set[tuple[str, int]] = {(q, v) for q, v in current.items()}
    refs |= {(a.exam_content_id, a.exam_version) for a in attempts}
    found = await content.snapshots(refs)
    changed = []
    works: list[GradedWork] = []
    for attempt in attempts:
        exam = found[(attempt.exam_content_id, attempt.exam_version)]
        auto = {
            int(e["number"]): scoring.auto_points(
                found[(e["question_id"], current[e["question_id"]])],
                e["answer"],
                max_points=e["max_points"],
            )
            for e in (attempt.sheet or {})["tasks"]
            if "question_id" in e and e["question_id"] in current
        }
        points = _task_points(attempt, grades[attempt.id], auto)
        primary = round(sum(p for p in points.values() if p is not None), 4)
        final = all(p is not None for p in points.values())
        test = scoring.test_score(exam, primary)
        new = ScoreLine(
            primary_score=primary,
            test_score=test,
            passed=scoring.passed(exam, test) if final else None,
        )
        old = latest[attempt.id]
        if new == _line(old):
            continue
        changed.append(RegradeChange(attempt_id=attempt.id, old=_line(old), new=new))
        if not dry_run:
            await append_result(
                session, attempt=attempt, exam=exam, task_points=points, reason="regrade"
            )
            works.append(_regraded_work(attempt, exam, auto, current=current, found=found))
    if works:  # the auto tasks' evidence, corrected as the quiz regrade does
        await items_regraded.fire(session, works)
    return RegradeReport(exam_id=exam_id, dry_run=dry_run, checked=len(attempts), changed=changed)


def _regraded_work(
    attempt: ExamAttempt,
    exam: Mapping[str, Any],
    auto: Mapping[int, float],
    *,
    current: Mapping[str, int],
    found: Mapping[tuple[str, int], dict[str, Any]],
) -> GradedWork:
    """A regraded attempt's auto tasks as :data:`items_regraded` hands them on (a task
    whose question is gone keeps the points and version its sheet has)."""
    items = []
    for entry in (attempt.sheet or {})["tasks"]:
        if "question_id" not in entry:
            continue
        question_id = entry["question_id"]
        version = current.get(question_id, entry["version"])
        items.append(
            GradedItem(
                item_id=question_id,
                version=version,
                points=float(auto.get(int(entry["number"]), entry["points"])),
                max_points=float(entry["max_points"]),
                competencies=tuple(found.get((question_id, version), {}).get("competencies", [])),
            )
        )
    return _exam_work(attempt, exam, tuple(items))


def _exam_work(
    attempt: ExamAttempt, exam: Mapping[str, Any], items: tuple[GradedItem, ...]
) -> GradedWork:
    """Graded items of an exam attempt, as the hooks hand evidence on."""
    return GradedWork(
        source="exam",
        attempt_id=attempt.id,
        user_id=attempt.user_id,
        container_id=attempt.exam_content_id,
        container_version=attempt.exam_version,
        title=str(exam.get("title", attempt.exam_content_id)),
        course_id=attempt.course_id,
        items=items,
    )
