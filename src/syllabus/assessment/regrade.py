"""Quiz regrades (DECISIONS 15; docs/assessment.md, "Results and regrades").

When a question's key turns out wrong, its author fixes and reloads it; an admin then
regrades the quiz: every submitted attempt that counts is graded again, each answer
against the CURRENT version of its question (the attempt's own snapshot says what was
answered; a question no longer in the content keeps the points it had), with the pass
mark of the version the attempt showed. A dry run reports the attempts whose result
would change and writes nothing. Applying it appends a result version to each, then,
in the same transaction, per learner: completes what the new results complete, awards
what they earn, and corrects the mastery evidence they gave (``items_regraded``).

What a regrade never does: change a submitted attempt (its trigger refuses), revoke an
achievement already awarded, or take back a course completion already recorded (the
learner was told; the rollup shows the new standing). Nor does it record ``passed`` or
``failed`` activity: the learner did nothing (a completion or an award it causes is
recorded, as any is). Two regrades of one quiz run one after the other (a lock); the
second finds nothing left to change.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment import repository
from syllabus.assessment.grading import grade
from syllabus.assessment.hooks import GradedItem, GradedWork, items_regraded
from syllabus.assessment.models import QuizAttempt, QuizResult
from syllabus.assessment.schemas import QuizRegradeChange, QuizRegradeReport, QuizScore
from syllabus.content import service as content
from syllabus.db import versions
from syllabus.progress import service as progress

Found = Mapping[tuple[str, int], dict[str, Any]]
"""Content snapshots by (id, version)."""

COMPARED = ("points", "max_points", "correct")
"""What makes a question's grade different (not the version that gave it)."""
ENTRY = ("question_id", "version", *COMPARED)
"""A question's entry in a result's ``question_points``."""


@dataclass(frozen=True)
class Regraded:
    """An attempt graded again: its new per-question points and totals."""

    attempt: QuizAttempt
    old: QuizResult
    points: list[dict[str, Any]]
    score: Decimal
    max_score: Decimal


def _points(
    attempt: QuizAttempt, old: QuizResult, *, current: Mapping[str, int], found: Found
) -> list[dict[str, Any]]:
    """Each question of the attempt graded against its current version; one gone from
    the content keeps its latest points."""
    kept = {entry["question_id"]: entry for entry in old.question_points}
    points = []
    for item in (attempt.details or {}).get("questions", []):
        question_id = item["question_id"]
        ref = (question_id, current.get(question_id, -1))
        if ref not in found:
            points.append(kept.get(question_id) or {name: item[name] for name in ENTRY})
            continue
        result = grade(found[ref], item["answer"])
        points.append(
            {
                "question_id": question_id,
                "version": ref[1],
                "points": result.points,
                "max_points": result.max_points,
                "correct": result.correct,
            }
        )
    return points


def _differs(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> bool:
    def graded(entries: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (e["question_id"], *(float(e[n]) if n != "correct" else e[n] for n in COMPARED))
            for e in entries
        ]

    return graded(old) != graded(new)


def _total(points: Sequence[Mapping[str, Any]], name: str) -> Decimal:
    return round(Decimal(str(sum(float(p[name]) for p in points))), 4)


async def _regrade(session: AsyncSession, quiz_id: str) -> tuple[int, list[Regraded], Found]:
    """The quiz's counted attempts graded again: how many, the changed ones, and the
    content read (the current questions, the quiz versions shown)."""
    attempts = await repository.sealed_of_quiz(session, quiz_id=quiz_id)
    latest = await repository.latest_results(session, [a.id for a in attempts])
    graded = [a for a in attempts if a.id in latest]  # submitted without a score: nothing
    question_ids = sorted(
        {q["question_id"] for a in graded for q in (a.details or {}).get("questions", [])}
    )
    current = await content.current_versions(question_ids)
    quizzes = {(a.quiz_content_id, a.quiz_version) for a in graded if a.quiz_version}
    found = await content.snapshots(set(current.items()) | quizzes)
    changed = []
    for attempt in graded:
        old = latest[attempt.id]
        points = _points(attempt, old, current=current, found=found)
        if _differs(old.question_points, points):
            changed.append(
                Regraded(
                    attempt=attempt,
                    old=old,
                    points=points,
                    score=_total(points, "points"),
                    max_score=_total(points, "max_points"),
                )
            )
    return len(graded), changed, found


def _work(regraded: Regraded, found: Found) -> GradedWork:
    """A regraded attempt as :data:`items_regraded` hands it on."""
    attempt = regraded.attempt
    quiz = found.get((attempt.quiz_content_id, attempt.quiz_version or 0), {})
    return GradedWork(
        source="quiz",
        attempt_id=attempt.id,
        user_id=attempt.user_id,
        container_id=attempt.quiz_content_id,
        container_version=attempt.quiz_version or 0,
        title=str(quiz.get("title", attempt.quiz_content_id)),
        course_id=attempt.course_id,
        items=tuple(
            GradedItem(
                item_id=p["question_id"],
                version=int(p["version"]),
                points=float(p["points"]),
                max_points=float(p["max_points"]),
                competencies=tuple(
                    found.get((p["question_id"], int(p["version"])), {}).get("competencies", [])
                ),
            )
            for p in regraded.points
        ),
    )


async def _apply(
    session: AsyncSession, changed: Sequence[tuple[Regraded, QuizResult]], found: Found
) -> tuple[int, int]:
    """Append the versions; per learner, complete and award what they now meet; correct
    the mastery evidence. Returns (courses completed, achievements awarded)."""
    await repository.append_results(session, [result for _, result in changed])
    per_learner: dict[Any, list[tuple[Regraded, QuizResult]]] = defaultdict(list)
    for regraded, result in changed:
        per_learner[regraded.attempt.user_id].append((regraded, result))
    completed = awarded = 0
    for user_id, theirs in per_learner.items():
        courses = {
            r.attempt.course_id: str(quiz["course_id"])
            for r, _ in theirs
            if r.attempt.course_id is not None
            and (quiz := found.get((r.attempt.quiz_content_id, r.attempt.quiz_version or 0)))
        }
        completion = await progress.complete_if_done(
            session=session, user_id=user_id, courses=courses
        )
        perfect = any(r.max_score > 0 and r.score == r.max_score for r, _ in theirs)
        earned = await progress.award(
            session=session, user_id=user_id, perfect_quiz=perfect, along=completion
        )
        completed, awarded = completed + len(completion), awarded + len(earned)
    await items_regraded.fire(session, [_work(regraded, found) for regraded, _ in changed])
    return completed, awarded


def _score(score: Decimal, max_score: Decimal, passed: bool) -> QuizScore:
    return QuizScore(score=float(score), max_score=float(max_score), passed=passed)


async def regrade(*, session: AsyncSession, quiz_id: str, dry_run: bool) -> QuizRegradeReport:
    """Regrade the quiz's submitted attempts against the current keys; a dry run writes
    nothing. The report names attempts and totals, never a learner or a question."""
    await content.quiz_document(quiz_id)  # 404 for an unknown or archived quiz
    await versions.lock_regrade(session, of=quiz_id)
    checked, regraded, found = await _regrade(session, quiz_id)
    passes = await repository.passes(
        session, [(r.score, r.max_score, r.attempt.pass_percent) for r in regraded]
    )
    changed = [
        (
            r,
            QuizResult(
                attempt_id=r.attempt.id,
                version=r.old.version + 1,
                score=r.score,
                max_score=r.max_score,
                passed=passed,
                question_points=r.points,
                reason="regrade",
            ),
        )
        for r, passed in zip(regraded, passes, strict=True)
    ]
    completed = awarded = 0
    if not dry_run and changed:
        completed, awarded = await _apply(session, changed, found)
    return QuizRegradeReport(
        quiz_id=quiz_id,
        dry_run=dry_run,
        checked=checked,
        changed=[
            QuizRegradeChange(
                attempt_id=r.attempt.id,
                old=_score(r.old.score, r.old.max_score, r.old.passed),
                new=_score(result.score, result.max_score, result.passed),
                version=result.version,
            )
            for r, result in changed
        ],
        courses_completed=completed,
        achievements_awarded=awarded,
    )
