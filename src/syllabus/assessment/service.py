"""Quiz attempts: starting within the limits, autosaving, submitting once (retries are
replayed by the one idempotency mechanism, in the router), grading on the server against
the exact content versions the attempt started with, review by policy, and lazy grading
of expired attempts. Whether an attempt and a quiz are passed is ``progress``'s rule, in
SQL. Services never commit."""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import service as access
from syllabus.assessment import repository
from syllabus.assessment.grading import AnswerShapeError, check_shape, grade
from syllabus.assessment.hooks import GradedItem, GradedWork, items_graded
from syllabus.assessment.models import QuizAttempt, QuizResult
from syllabus.assessment.review import Regraded, review_items, reviews_open
from syllabus.assessment.schemas import Answer, AttemptPublic, AttemptSummary
from syllabus.content import service as content
from syllabus.db.activity import Event, record_activity, record_events
from syllabus.errors import Conflict, NotFound, ValidationFailed
from syllabus.identity.models import User
from syllabus.progress import service as progress
from syllabus.progress.schemas import WriteEffects


class AttemptOpen(Conflict):
    """Starting a quiz while an attempt at it is still open; ``attempt_id`` names it."""

    title = "Attempt already open"
    code = "attempt-open"


class AttemptLimitReached(Conflict):
    """Starting a quiz whose ``max_attempts`` are all used; ``attempts_used`` says how
    many."""

    title = "Attempt limit reached"
    code = "attempt-limit-reached"


class AttemptSubmitted(Conflict):
    """Saving answers to, or submitting, an attempt that is already submitted (a retry
    with the same ``Idempotency-Key`` gets the first answer instead)."""

    title = "Attempt already submitted"
    code = "attempt-submitted"


class AttemptExpired(Conflict):
    """Saving answers to, or submitting, an attempt after its deadline (plus 30 s grace
    for a submission)."""

    title = "Attempt time is up"
    code = "attempt-expired"


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
    attempt = await repository.mine_locked(session, user_id=user.id, attempt_id=attempt_id)
    if attempt is None:
        raise NotFound("no such attempt of yours", field="attempt_id")
    return attempt


@dataclass(frozen=True)
class Shown:
    """The content an attempt started with: its quiz and its questions (by id), at the
    versions recorded on the attempt."""

    quiz: dict[str, Any]
    questions: dict[str, dict[str, Any]]


def _quiz_ref(attempt: QuizAttempt) -> tuple[str, int]:
    assert attempt.quiz_version is not None  # start() records it
    return attempt.quiz_content_id, attempt.quiz_version


async def _shown(attempts: Sequence[QuizAttempt]) -> dict[uuid.UUID, Shown]:
    """What each attempt showed, in ONE query however many attempts: by (id, version),
    since two attempts may hold different versions of a shared question."""
    refs = {_quiz_ref(a) for a in attempts} | {
        (q["id"], q["version"]) for a in attempts for q in a.questions or []
    }
    found = await content.snapshots(refs)
    return {
        a.id: Shown(
            quiz=found[_quiz_ref(a)],
            questions={q["id"]: found[(q["id"], q["version"])] for q in a.questions or []},
        )
        for a in attempts
    }


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
        raise ValidationFailed("; ".join(error["message"] for error in errors), errors=errors)
    return result


async def _require_access(
    session: AsyncSession, *, user: User, attempt: QuizAttempt, shown: Shown
) -> None:
    """Every route that uses an attempt asks ``access`` again, as starting it did
    (DECISIONS 4): an attempt is usable only while its learner may take its quiz, so a
    cancelled enrollment closes its open attempt (403) until they enroll again."""
    await access.require_enrollment(session=session, user=user, course=_course_of(shown))


def _course_of(shown: Shown) -> str:
    """The quiz's course (content id) as the version the attempt showed names it."""
    return str(shown.quiz["course_id"])


def _summary(attempt: QuizAttempt, latest: QuizResult | None = None) -> AttemptSummary:
    """``latest``: the attempt's current result version (a regrade may have added one);
    without it, a submitted attempt shows its grade at submission, its version 1."""
    graded: QuizAttempt | QuizResult = latest if latest is not None else attempt
    submitted = attempt.submitted_at is not None
    return AttemptSummary(
        id=attempt.id,
        quiz_id=attempt.quiz_content_id,
        attempt_no=attempt.attempt_no,
        status="submitted" if submitted else "open",
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        score=float(graded.score) if graded.score is not None else None,
        max_score=float(graded.max_score) if graded.max_score is not None else None,
        passed=graded.passed,
        result_version=(latest.version if latest is not None else 1) if submitted else None,
    )


async def _public(
    session: AsyncSession,
    attempt: QuizAttempt,
    *,
    shown: Shown | None = None,
    latest: QuizResult | None = None,
) -> dict[str, Any]:
    """The learner's view of an attempt, as JSON-ready data; ``latest``: its current
    result version when a regrade may have added one (see :func:`_summary`)."""
    if shown is None:
        shown = (await _shown([attempt]))[attempt.id]
    quiz, questions = shown.quiz, shown.questions
    order = [q["id"] for q in attempt.questions or []]
    answers = (attempt.details or {}).get("answers") if attempt.submitted_at else None
    review = None
    if attempt.id in await reviews_open(session, [attempt], quizzes={attempt.id: quiz}):
        review = review_items(attempt.details, regraded=await _regraded(latest))
    public = AttemptPublic(
        **_summary(attempt, latest).model_dump(),
        deadline=attempt.deadline,
        questions=[content.question_public(questions[question_id]) for question_id in order],
        answers=answers if answers is not None else dict(attempt.saved_answers or {}),
        review=review,
    )
    data: dict[str, Any] = public.model_dump(mode="json")
    return data


async def _regraded(latest: QuizResult | None) -> dict[str, Regraded]:
    """What a regraded result says of each question: its points and the key of the
    question version that graded it (one MongoDB query; none for a version 1)."""
    if latest is None or latest.version == 1:
        return {}
    keys = await content.snapshots(
        {(p["question_id"], p["version"]) for p in latest.question_points}
    )
    return {
        p["question_id"]: Regraded(
            points=float(p["points"]),
            max_points=float(p["max_points"]),
            correct=bool(p["correct"]),
            correct_answer=keys[(p["question_id"], p["version"])]["key"],
        )
        for p in latest.question_points
        if (p["question_id"], p["version"]) in keys
    }


@dataclass(frozen=True)
class Graded:
    """An attempt graded in memory, with its exact (unrounded) score for the activity log
    and the perfect-score achievement; sealing sets whether it passed."""

    attempt: QuizAttempt
    score: float
    max_score: float


def _grade(attempt: QuizAttempt, *, answers: dict[str, Any], now: datetime, shown: Shown) -> Graded:
    """Grade against the attempt's own content versions and set the sealed fields in
    memory; :func:`_seal` writes them."""
    quiz, questions = shown.quiz, shown.questions
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
    attempt.submitted_at = max(now, attempt.started_at or now)
    attempt.score = round(score, 4)  # type: ignore[assignment]
    attempt.max_score = round(max_score, 4)  # type: ignore[assignment]
    # The pass mark and scoring policy of the version shown: what progress's rules read.
    attempt.pass_percent = quiz.get("pass_percent")
    attempt.scoring_policy = quiz.get("scoring_policy")
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
    return Graded(attempt, score, max_score)


async def _seal(
    session: AsyncSession, *, graded: Sequence[Graded], shown: dict[uuid.UUID, Shown]
) -> WriteEffects:
    """Seal one learner's graded attempts in ONE update, then apply what the results
    unlock (course completion, achievements, activity) in a fixed number of statements
    however many attempts: the same outcome as sealing them one at a time. Returns what
    that caused."""
    attempts = [g.attempt for g in graded]
    user_ids = {a.user_id for a in attempts}
    assert len(user_ids) == 1, "one learner's attempts at a time"
    user_id = user_ids.pop()
    await repository.seal(session, attempts)
    await items_graded.fire(session, [_graded_work(g.attempt, shown[g.attempt.id]) for g in graded])
    course_of = {a.course_id: _course_of(shown[a.id]) for a in attempts if a.course_id is not None}
    completion = await progress.complete_if_done(
        session=session, user_id=user_id, courses=course_of
    )
    events = [
        Event(
            verb="passed" if g.attempt.passed else "failed",
            object_type="quiz",
            object_id=g.attempt.quiz_content_id,
            course_id=g.attempt.course_id,
            result={"score": g.score, "max_score": g.max_score, "success": bool(g.attempt.passed)},
        )
        for g in graded
    ]
    events += completion
    await record_events(session, actor_id=user_id, events=events)  # before the streak counts
    perfect = any(g.max_score > 0 and g.score == g.max_score for g in graded)
    earned = await progress.award(session=session, user_id=user_id, perfect_quiz=perfect)
    return WriteEffects(course_completed=bool(completion), achievements_earned=earned)


def _graded_work(attempt: QuizAttempt, shown: Shown) -> GradedWork:
    """A sealed attempt as the plain data :data:`items_graded` hands on."""
    quiz_id, quiz_version = _quiz_ref(attempt)
    return GradedWork(
        source="quiz",
        attempt_id=attempt.id,
        user_id=attempt.user_id,
        container_id=quiz_id,
        container_version=quiz_version,
        title=str(shown.quiz.get("title", quiz_id)),
        course_id=attempt.course_id,
        items=tuple(
            GradedItem(
                item_id=item["question_id"],
                version=item["version"],
                points=float(item["points"]),
                max_points=float(item["max_points"]),
                competencies=tuple(shown.questions[item["question_id"]].get("competencies", [])),
            )
            for item in (attempt.details or {}).get("questions", [])
        ),
    )


async def _settle_expired(
    session: AsyncSession,
    attempts: Sequence[QuizAttempt],
    *,
    shown: dict[uuid.UUID, Shown] | None = None,
) -> None:
    """Open attempts past their deadline are graded from their autosaved answers the
    next time anyone reads them (or starts another), all together."""
    now = _now()
    expired = [a for a in attempts if _expired(a, now)]
    if not expired:
        return
    if shown is None:
        shown = await _shown(expired)
    graded = []
    for attempt in expired:
        assert attempt.deadline is not None
        graded.append(
            _grade(
                attempt,
                answers=dict(attempt.saved_answers or {}),
                now=attempt.deadline + GRACE,
                shown=shown[attempt.id],
            )
        )
    await _seal(session, graded=graded, shown=shown)


async def start(*, session: AsyncSession, user: User, quiz_id: str) -> dict[str, Any]:
    """A new attempt, within the limits. An attempt an operator voided (soft-deleted)
    does not count toward ``max_attempts``, and its number is never given again."""
    quiz, course = await content.visible_quiz(session=session, viewer=user, quiz_id=quiz_id)
    await access.require_enrollment(session=session, user=user, course=course.course.content_id)
    await repository.lock_starts(session, user_id=user.id, quiz_id=quiz_id)
    open_attempt = await repository.open_attempt(session, user_id=user.id, quiz_id=quiz_id)
    if open_attempt is not None:
        await _settle_expired(session, [open_attempt])
        if open_attempt.submitted_at is None:
            raise AttemptOpen("an attempt is already open", attempt_id=str(open_attempt.id))
    used = await repository.attempts_used(session, user_id=user.id, quiz_id=quiz_id)
    if quiz.max_attempts is not None and used.counted >= quiz.max_attempts:
        raise AttemptLimitReached(
            f"no attempts left: {used.counted} of {quiz.max_attempts} used",
            attempts_used=used.counted,
        )
    versions = await content.current_versions(quiz.question_ids)
    order = [q for q in quiz.question_ids if q in versions]
    attempt = QuizAttempt(
        user_id=user.id,
        course_id=course.course.id,
        quiz_content_id=quiz_id,
        attempt_no=used.last_number + 1,
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
    await record_activity(
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
    shown = (await _shown([attempt]))[attempt.id]
    await _require_access(session, user=user, attempt=attempt, shown=shown)
    if attempt.submitted_at is not None:
        raise AttemptSubmitted("the attempt is submitted")
    if _expired(attempt, _now()):
        raise AttemptExpired("the attempt's time is up")
    valid = _validate(attempt, answers, shown.questions)
    attempt.saved_answers = {**(attempt.saved_answers or {}), **valid}
    await session.flush()
    return await _public(session, attempt, shown=shown)


async def submit(
    *, session: AsyncSession, user: User, attempt_id: uuid.UUID, answers: list[Answer]
) -> dict[str, Any]:
    """Grade and seal, saying what it caused; a sealed attempt is a 409 (a retry of the
    same submission is answered by the router's Idempotency-Key before it gets here)."""
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    shown = await _shown([attempt])
    await _require_access(session, user=user, attempt=attempt, shown=shown[attempt.id])
    if attempt.submitted_at is not None:
        raise AttemptSubmitted("the attempt is already submitted")
    if _expired(attempt, _now()):
        raise AttemptExpired("the attempt's time is up (deadline plus 30 s grace)")
    valid = _validate(attempt, answers, shown[attempt.id].questions)
    graded = _grade(attempt, answers=valid, now=_now(), shown=shown[attempt.id])
    effects = await _seal(session, graded=[graded], shown=shown)
    public = await _public(session, attempt, shown=shown[attempt.id])
    return {**public, **effects.model_dump(mode="json")}


async def read(*, session: AsyncSession, user: User, attempt_id: uuid.UUID) -> dict[str, Any]:
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    shown = await _shown([attempt])
    await _require_access(session, user=user, attempt=attempt, shown=shown[attempt.id])
    await _settle_expired(session, [attempt], shown=shown)
    latest = await repository.latest_results(session, [attempt.id])
    return await _public(session, attempt, shown=shown[attempt.id], latest=latest.get(attempt.id))


async def mine(
    *,
    session: AsyncSession,
    user: User,
    quiz_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[AttemptSummary]:
    """My attempts in the order started, ``limit + 1`` of them; the expired open ones
    among them are graded first."""
    attempts = await repository.mine_page_locked(
        session, user_id=user.id, quiz_id=quiz_id, after=after, limit=limit
    )
    await _settle_expired(session, attempts)
    latest = await repository.latest_results(session, [a.id for a in attempts])
    return [_summary(a, latest.get(a.id)) for a in attempts]


async def has_open_attempt(*, session: AsyncSession, user: User, course_id: uuid.UUID) -> bool:
    """An attempt of the course the learner can still answer (what the tutor's lock asks)."""
    return await repository.open_in_course(
        session, user_id=user.id, course_id=course_id, deadline_after=_now() - GRACE
    )
