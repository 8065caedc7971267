"""Quiz attempts: starting within the limits, autosaving, submitting once (idempotent),
grading on the server against the exact content versions the attempt started with,
review by policy, and lazy grading of expired attempts. Services never commit."""

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.analytics.activity import record_activity
from syllabus.assessment import achievements
from syllabus.assessment.grading import AnswerShapeError, check_shape, grade
from syllabus.assessment.models import QuizAttempt
from syllabus.assessment.schemas import Answer, AttemptPublic, AttemptSummary, ReviewItem
from syllabus.catalog import service as catalog
from syllabus.content import service as content
from syllabus.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from syllabus.identity.models import User
from syllabus.learning import repository as learning
from syllabus.learning.service import complete_if_done

GRACE = timedelta(seconds=30)
"""Submissions are accepted this long after the deadline (network, clock skew)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _expired(attempt: QuizAttempt, now: datetime) -> bool:
    return (
        attempt.submitted_at is None
        and attempt.deadline is not None
        and now > attempt.deadline + GRACE
    )


async def _mine(session: AsyncSession, *, user: User, attempt_id: uuid.UUID) -> QuizAttempt:
    """The caller's attempt, locked for this transaction; someone else's is a 404."""
    attempt = (
        await session.execute(
            select(QuizAttempt)
            .where(col(QuizAttempt.id) == attempt_id, col(QuizAttempt.user_id) == user.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if attempt is None:
        raise NotFound("no such attempt of yours", field="attempt_id")
    return attempt


async def _quiz_snapshot(attempt: QuizAttempt) -> dict[str, Any]:
    assert attempt.quiz_version is not None
    found = await content.snapshots([(attempt.quiz_content_id, attempt.quiz_version)])
    return found[attempt.quiz_content_id]


async def _question_snapshots(attempt: QuizAttempt) -> dict[str, dict[str, Any]]:
    refs = [(q["id"], q["version"]) for q in attempt.questions or []]
    return await content.snapshots(refs)


def _validate(
    attempt: QuizAttempt, answers: list[Answer], questions: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Answers keyed by question; every problem is a 422 naming the question."""
    shown = {q["id"] for q in attempt.questions or []}
    errors: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for index, item in enumerate(answers):
        field = f"answers[{index}]"
        if item.question_id not in shown:
            message = "is not a question of this attempt"
        elif item.question_id in result:
            message = "is answered twice"
        else:
            message = ""
            try:
                check_shape(questions[item.question_id], item.answer)
            except AnswerShapeError as error:
                message = f"answer {error}"
        if message:
            errors.append(
                {
                    "field": f"{field}.question_id"
                    if "answer " not in message
                    else f"{field}.answer",
                    "in": "body",
                    "question_id": item.question_id,
                    "message": f"{item.question_id} {message}",
                    "type": "answer",
                }
            )
        else:
            result[item.question_id] = item.answer
    if errors:
        raise UnprocessableContent("; ".join(error["message"] for error in errors), errors=errors)
    return result


async def _access(session: AsyncSession, *, user: User, course_content_id: str) -> Any:
    """The quiz's course must be visible and the learner enrolled in it."""
    course = await catalog.visible_course(
        session=session, viewer=user, course_ref=course_content_id
    )
    enrollment = await learning.live_enrollment(
        session, user_id=user.id, course_id=course.course.id
    )
    if enrollment is None:
        raise Forbidden(f"enroll in {course_content_id} to take its quizzes")
    return course, enrollment


def _percent(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 100.0


async def _passed_overall(
    session: AsyncSession, attempt: QuizAttempt, quiz: dict[str, Any]
) -> bool:
    """Has the learner passed this quiz, counting ``attempt`` as it is in memory (it may
    be about to be sealed)? Same rule as SQL's quiz_passed(): the scoring policy picks
    the attempt(s) that count."""
    rows = await session.execute(
        select(col(QuizAttempt.score), col(QuizAttempt.max_score))
        .where(
            col(QuizAttempt.user_id) == attempt.user_id,
            col(QuizAttempt.quiz_content_id) == attempt.quiz_content_id,
            col(QuizAttempt.submitted_at).is_not(None),
            col(QuizAttempt.id) != attempt.id,
        )
        .order_by(col(QuizAttempt.submitted_at))
    )
    percents = [_percent(float(score or 0), float(best or 0)) for score, best in rows]
    if attempt.submitted_at is not None and attempt.score is not None:
        percents.append(_percent(float(attempt.score), float(attempt.max_score or 0)))
    if not percents:
        return False
    policy = quiz.get("scoring_policy", "highest")
    counted = (
        max(percents)
        if policy == "highest"
        else sum(percents) / len(percents)
        if policy == "average"
        else percents[-1]
    )
    return counted >= float(quiz.get("pass_percent", 0))


async def _review_allowed(
    session: AsyncSession, attempt: QuizAttempt, quiz: dict[str, Any]
) -> bool:
    """never | after_submit | after_pass (the quiz is passed) | after_last_attempt (no
    attempts left; with unlimited attempts, once passed)."""
    if attempt.submitted_at is None:
        return False
    policy = str(quiz.get("review_policy", "after_submit"))
    if policy in ("after_submit", "never"):
        return policy == "after_submit"
    passed = await _passed_overall(session, attempt, quiz)
    limit = quiz.get("max_attempts")
    if policy == "after_pass" or limit is None:
        return passed
    used = await _attempts_used(session, user_id=attempt.user_id, quiz_id=attempt.quiz_content_id)
    return used >= int(limit)


async def _attempts_used(session: AsyncSession, *, user_id: uuid.UUID, quiz_id: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    col(QuizAttempt.user_id) == user_id,
                    col(QuizAttempt.quiz_content_id) == quiz_id,
                )
            )
        ).scalar_one()
    )


def _summary(attempt: QuizAttempt) -> AttemptSummary:
    return AttemptSummary(
        id=attempt.id,
        quiz_id=attempt.quiz_content_id,
        attempt_no=attempt.attempt_no,
        status="submitted" if attempt.submitted_at else "open",
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        score=float(attempt.score) if attempt.score is not None else None,
        max_score=float(attempt.max_score) if attempt.max_score is not None else None,
        passed=attempt.passed,
    )


async def _public(
    session: AsyncSession,
    attempt: QuizAttempt,
    *,
    questions: dict[str, dict[str, Any]] | None = None,
    quiz: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The learner's view of an attempt, as JSON-ready data (from memory: it may be
    about to be sealed)."""
    questions = questions if questions is not None else await _question_snapshots(attempt)
    quiz = quiz if quiz is not None else await _quiz_snapshot(attempt)
    order = [q["id"] for q in attempt.questions or []]
    answers = (attempt.details or {}).get("answers") if attempt.submitted_at else None
    review = None
    if await _review_allowed(session, attempt, quiz):
        review = [
            ReviewItem(
                question_id=item["question_id"],
                your_answer=item["answer"],
                correct_answer=item["correct_answer"],
                points=item["points"],
                max_points=item["max_points"],
                correct=item["correct"],
                explanation=item["explanation"],
            )
            for item in (attempt.details or {}).get("questions", [])
        ]
    public = AttemptPublic(
        **_summary(attempt).model_dump(),
        deadline=attempt.deadline,
        questions=[content.question_public(questions[question_id]) for question_id in order],
        answers=answers if answers is not None else dict(attempt.saved_answers or {}),
        review=review,
    )
    data: dict[str, Any] = public.model_dump(mode="json")
    return data


async def _seal(
    session: AsyncSession,
    *,
    attempt: QuizAttempt,
    answers: dict[str, Any],
    now: datetime,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """Grade against the attempt's own content versions and seal it in ONE update (the
    database refuses any later change), then apply what the result unlocks."""
    questions = await _question_snapshots(attempt)
    quiz = await _quiz_snapshot(attempt)
    details = []
    score = max_score = 0.0
    for ref in attempt.questions or []:
        question = questions[ref["id"]]
        result = grade(question, answers.get(ref["id"]))
        score += result.points
        max_score += result.max_points
        details.append(
            {
                "question_id": ref["id"],
                "version": ref["version"],
                "content_hash": question["content_hash"],
                "shown": content.question_public(question).model_dump(mode="json"),
                "answer": answers.get(ref["id"]),
                "correct_answer": question["key"],
                "points": result.points,
                "max_points": result.max_points,
                "correct": result.correct,
                "explanation": question.get("explanation"),
            }
        )
    passed = _percent(score, max_score) >= float(quiz.get("pass_percent", 0))
    attempt.submitted_at = max(now, attempt.started_at or now)
    attempt.score = round(score, 4)  # type: ignore[assignment]
    attempt.max_score = round(max_score, 4)  # type: ignore[assignment]
    attempt.passed = passed
    attempt.details = {
        "quiz": {
            "id": attempt.quiz_content_id,
            "version": attempt.quiz_version,
            "content_hash": quiz["content_hash"],
            "pass_percent": quiz.get("pass_percent"),
        },
        "answers": answers,
        "questions": details,
    }
    response = await _public(session, attempt, questions=questions, quiz=quiz)
    if idempotency_key is not None:
        attempt.idempotency_key = idempotency_key
        attempt.request_hash = fingerprint
        attempt.response = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
    record_activity(
        session,
        actor_id=attempt.user_id,
        verb="passed" if passed else "failed",
        object_type="quiz",
        object_id=attempt.quiz_content_id,
        course_id=attempt.course_id,
        result={"score": score, "max_score": max_score, "success": passed},
    )
    await session.flush()  # the one sealing UPDATE
    if attempt.course_id is not None:
        enrollment = await learning.live_enrollment(
            session, user_id=attempt.user_id, course_id=attempt.course_id
        )
        if enrollment is not None and enrollment.status == "active":
            await complete_if_done(
                session,
                user_id=attempt.user_id,
                course_id=attempt.course_id,
                course_content_id=str(quiz.get("course_id")),
                enrollment_id=enrollment.id,
            )
    await achievements.award(
        session, user_id=attempt.user_id, perfect_quiz=max_score > 0 and score == max_score
    )
    return response


async def _settle_expired(session: AsyncSession, attempt: QuizAttempt) -> None:
    """An open attempt past its deadline is graded from its autosaved answers the next
    time anyone reads it (or starts another)."""
    if _expired(attempt, _now()):
        deadline = attempt.deadline
        assert deadline is not None
        await _seal(
            session,
            attempt=attempt,
            answers=dict(attempt.saved_answers or {}),
            now=deadline + GRACE,
        )


async def start(*, session: AsyncSession, user: User, quiz_id: str) -> dict[str, Any]:
    quiz = await content.quiz_document(quiz_id)
    course, _ = await _access(session, user=user, course_content_id=quiz.course_id)
    # One start at a time per learner and quiz: limits hold under any concurrency.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"quiz:{user.id}:{quiz_id}", 0)))
    )
    open_attempt = (
        await session.execute(
            select(QuizAttempt).where(
                col(QuizAttempt.user_id) == user.id,
                col(QuizAttempt.quiz_content_id) == quiz_id,
                col(QuizAttempt.submitted_at).is_(None),
            )
        )
    ).scalar_one_or_none()
    if open_attempt is not None:
        await _settle_expired(session, open_attempt)
        if open_attempt.submitted_at is None:
            raise Conflict("an attempt is already open", attempt_id=str(open_attempt.id))
    used = await _attempts_used(session, user_id=user.id, quiz_id=quiz_id)
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise Conflict(f"no attempts left: {used} of {quiz.max_attempts} used", attempts_used=used)
    versions = await content.current_versions(quiz.question_ids)
    order = [q for q in quiz.question_ids if q in versions]
    attempt = QuizAttempt(
        user_id=user.id,
        course_id=course.course.id,
        quiz_content_id=quiz_id,
        attempt_no=used + 1,
        quiz_version=quiz.version,
        saved_answers={},
    )
    if quiz.shuffle:  # deterministic for this attempt: seeded by its id
        random.Random(attempt.id.int).shuffle(order)  # noqa: S311 (not security)
    attempt.questions = [{"id": q, "version": versions[q]} for q in order]
    session.add(attempt)
    await session.flush()
    if quiz.time_limit_seconds:
        assert attempt.started_at is not None
        attempt.deadline = attempt.started_at + timedelta(seconds=quiz.time_limit_seconds)
        await session.flush()
    record_activity(
        session,
        actor_id=user.id,
        verb="attempted",
        object_type="quiz",
        object_id=quiz_id,
        course_id=course.course.id,
    )
    return await _public(session, attempt)


async def save_answers(
    *, session: AsyncSession, user: User, attempt_id: uuid.UUID, answers: list[Answer]
) -> dict[str, Any]:
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    if attempt.submitted_at is not None:
        raise Conflict("the attempt is submitted")
    if _expired(attempt, _now()):
        raise Conflict("the attempt's time is up")
    valid = _validate(attempt, answers, await _question_snapshots(attempt))
    attempt.saved_answers = {**(attempt.saved_answers or {}), **valid}
    await session.flush()
    return await _public(session, attempt)


def request_fingerprint(answers: list[Answer]) -> str:
    canonical = json.dumps(
        [a.model_dump(mode="json") for a in answers], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit(
    *,
    session: AsyncSession,
    user: User,
    attempt_id: uuid.UUID,
    answers: list[Answer],
    idempotency_key: str,
) -> str:
    """Grade and seal; returns the response as JSON text. Replaying the same key returns
    the stored text byte for byte; the same key with another body is a 422; a new key on
    a sealed attempt, 409."""
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    fingerprint = request_fingerprint(answers)
    if attempt.submitted_at is not None:
        if attempt.idempotency_key == idempotency_key:
            if attempt.request_hash != fingerprint:
                raise UnprocessableContent(
                    "this Idempotency-Key was used with a different body", field="Idempotency-Key"
                )
            assert attempt.response is not None
            return attempt.response
        raise Conflict("the attempt is already submitted")
    if _expired(attempt, _now()):
        raise Conflict("the attempt's time is up (deadline plus 30 s grace)")
    valid = _validate(attempt, answers, await _question_snapshots(attempt))
    await _seal(
        session,
        attempt=attempt,
        answers=valid,
        now=_now(),
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    assert attempt.response is not None
    return attempt.response


async def read(*, session: AsyncSession, user: User, attempt_id: uuid.UUID) -> dict[str, Any]:
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    await _settle_expired(session, attempt)
    return await _public(session, attempt)


async def mine(*, session: AsyncSession, user: User, quiz_id: str | None) -> list[AttemptSummary]:
    query = (
        select(QuizAttempt).where(col(QuizAttempt.user_id) == user.id).order_by(col(QuizAttempt.id))
    )
    if quiz_id is not None:
        query = query.where(col(QuizAttempt.quiz_content_id) == quiz_id)
    attempts = list((await session.execute(query.with_for_update())).scalars().all())
    for attempt in attempts:
        await _settle_expired(session, attempt)
    return [_summary(a) for a in attempts]
