"""The life of an exam attempt: start (draw the variant, fix the versions, set the
deadline), autosave (append to the hash-chained answer log), submit or the deadline
(seal the answer sheet and its hash, grade the auto tasks, queue the expert ones), and
the learner's view of it, with the review only when the exam's policy allows
(DECISIONS 14). Services never commit.

Every route that uses an attempt asks ``access`` again (DECISIONS 4): taking an exam
needs a live enrollment in its course, and for a paid course whatever ``access``
requires to open it.
"""

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import service as access
from syllabus.assessment.grading import AnswerShapeError, check_shape
from syllabus.assessment.hooks import GradedItem, GradedWork, items_graded
from syllabus.catalog import service as catalog
from syllabus.catalog.repository import CourseRow
from syllabus.content import service as content
from syllabus.content.documents import ExamContent
from syllabus.errors import Conflict, NotFound, ValidationFailed
from syllabus.exams import repository, scoring
from syllabus.exams.hooks import mastery_wanted
from syllabus.exams.models import (
    ExamAnswerEvent,
    ExamAttempt,
    ExamExpertGrade,
    ExamExpertMark,
    ExamResult,
)
from syllabus.exams.schemas import (
    MAX_EXTENDED_ANSWER,
    ExamAnswer,
    ExamAttemptPublic,
    ExamAttemptSummary,
    ProblemPublic,
    ResultPublic,
    TaskReview,
    TaskShown,
)
from syllabus.identity.models import User

GRACE = timedelta(seconds=30)
"""Answers and a submit are accepted this long after the deadline (network, clock skew);
later ones are refused (409 ``exam-time-up``) and kept out of the sheet."""


class AttemptOpen(Conflict):
    """Starting an exam while an attempt at it is still open; ``attempt_id`` names it."""

    title = "Exam attempt already open"
    code = "exam-attempt-open"


class NoAttemptsLeft(Conflict):
    """Starting an exam whose ``max_attempts`` are all used; ``attempts_used`` says how
    many."""

    title = "No exam attempts left"
    code = "exam-attempts-used"


class NotAvailable(Conflict):
    """Starting an exam before its ``available_from`` or after its ``available_until``."""

    title = "Exam not available now"
    code = "exam-not-available"


class Sealed(Conflict):
    """Saving answers to, or submitting, an exam attempt that is already sealed (a retry
    with the same ``Idempotency-Key`` gets the first answer instead)."""

    title = "Exam attempt sealed"
    code = "exam-attempt-sealed"


class TimeUp(Conflict):
    """Answers or a submission after the attempt's deadline plus 30 s grace: the request
    seals the attempt with the answers saved before (kept although it fails), and the
    late answers stay out of the sheet."""

    title = "Exam time is up"
    code = "exam-time-up"
    keeps_writes = True


class NotSealed(Conflict):
    """Asking for the answer sheet of an attempt that is still open."""

    title = "Exam attempt not sealed"
    code = "exam-attempt-open-sheet"


class ReviewClosed(Conflict):
    """Asking for the sealed sheet (which holds per-task points) before the exam's review
    policy shows it (DECISIONS 14)."""

    title = "Exam review not open"
    code = "exam-review-closed"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Shown:
    """What an attempt showed: the exam version and the drawn questions' versions."""

    exam: dict[str, Any]
    questions: dict[str, dict[str, Any]]

    def task(self, number: int) -> dict[str, Any]:
        task: dict[str, Any] = self.exam["tasks"][number - 1]
        return task

    def problem(self, number: int, problem_id: str) -> dict[str, Any]:
        return next(p for p in self.task(number)["problems"] if p["id"] == problem_id)


def _question_refs(attempt: ExamAttempt) -> set[tuple[str, int]]:
    return {(v["question_id"], v["version"]) for v in attempt.variant if "question_id" in v}


async def shown_of(attempts: Sequence[ExamAttempt]) -> dict[uuid.UUID, Shown]:
    """What each attempt showed, in ONE MongoDB query however many attempts."""
    refs = {(a.exam_content_id, a.exam_version) for a in attempts}
    for attempt in attempts:
        refs |= _question_refs(attempt)
    found = await content.snapshots(refs)
    return {
        a.id: Shown(
            exam=found[(a.exam_content_id, a.exam_version)],
            questions={qid: found[(qid, version)] for qid, version in _question_refs(a)},
        )
        for a in attempts
    }


async def _may_take(session: AsyncSession, *, user: User, course: CourseRow) -> None:
    """DECISIONS 4: open the course (a paid one: what ``access`` requires) and a live
    enrollment in it."""
    await access.require_open(session=session, viewer=user, course=course, what="exam")
    await access.require_enrollment(session=session, user=user, course=course.course.content_id)


async def _require_access(session: AsyncSession, *, user: User, shown: Shown) -> None:
    course = await catalog.course_if_visible(
        session=session, viewer=user, course_ref=shown.exam["course_id"]
    )
    if course is None:  # the course was unpublished or archived since
        raise NotFound("no such attempt of yours", field="exam_attempt_id")
    await _may_take(session, user=user, course=course)


async def _mine(session: AsyncSession, *, user: User, attempt_id: uuid.UUID) -> ExamAttempt:
    attempt = await repository.mine_locked(session, user_id=user.id, attempt_id=attempt_id)
    if attempt is None:
        raise NotFound("no such attempt of yours", field="exam_attempt_id")
    return attempt


def _latest_answers(events: Sequence[ExamAnswerEvent]) -> dict[int, Any]:
    answers: dict[int, Any] = {}
    for event in events:
        answers[event.task] = event.answer
    return answers


def _due(attempt: ExamAttempt, now: datetime) -> bool:
    return attempt.sealed_at is None and now > attempt.deadline + GRACE


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


async def append_result(
    session: AsyncSession,
    *,
    attempt: ExamAttempt,
    exam: Mapping[str, Any],
    task_points: Mapping[str, float | None],
    reason: str,
) -> ExamResult:
    """A new result version (DECISIONS 15), numbered after the latest under a lock, so
    a grade and a regrade at once cannot both take the same number."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"exam-result:{attempt.id}", 0)))
    )
    latest = (await repository.latest_results(session, [attempt.id])).get(attempt.id)
    primary = round(sum(p for p in task_points.values() if p is not None), 4)
    final = all(p is not None for p in task_points.values())
    test = scoring.test_score(exam, primary)
    result = ExamResult(
        attempt_id=attempt.id,
        version=(latest.version + 1) if latest else 1,
        primary_score=primary,  # type: ignore[arg-type]
        max_primary=scoring.max_primary(exam),
        test_score=test,
        passed=scoring.passed(exam, test) if final else None,
        final=final,
        task_points=dict(task_points),
        reason=reason,
    )
    session.add(result)
    await session.flush()
    return result


async def _seal(
    session: AsyncSession, attempt: ExamAttempt, *, shown: Shown, now: datetime, by: str
) -> None:
    """Write the sheet (the questions exactly as shown, every answer, the auto points,
    the head of the answer log) and its SHA-256 in one UPDATE; queue the expert tasks;
    record the first result."""
    events = await repository.events(session, attempt.id)
    answers = _latest_answers(events)
    tasks: list[dict[str, Any]] = []
    points: dict[str, float | None] = {}
    for drawn in attempt.variant:
        number = int(drawn["task"])
        task = shown.task(number)
        answer = answers.get(number)
        entry: dict[str, Any] = {
            "number": number,
            "part": task["part"],
            "grading": task["grading"],
            "max_points": task["max_points"],
            "answer": answer,
        }
        if "question_id" in drawn:
            question = shown.questions[drawn["question_id"]]
            entry |= {
                "question_id": drawn["question_id"],
                "version": drawn["version"],
                "content_hash": question["content_hash"],
                "shown": content.question_public(question).model_dump(mode="json"),
                "points": scoring.auto_points(question, answer, max_points=task["max_points"]),
            }
        else:
            problem = shown.problem(number, drawn["problem_id"])
            entry |= {
                "problem_id": problem["id"],
                "shown": {"id": problem["id"], "prompt": problem["prompt"]},
                "points": None,
            }
        points[str(number)] = entry["points"]
        tasks.append(entry)
    sheet = {
        "attempt_id": str(attempt.id),
        "exam_id": attempt.exam_content_id,
        "exam_version": attempt.exam_version,
        "exam_content_hash": shown.exam["content_hash"],
        "seed": attempt.seed,
        "started_at": _iso(attempt.started_at),
        "deadline": _iso(attempt.deadline),
        "sealed_at": _iso(now),
        "sealed_by": by,
        "tasks": tasks,
        "answer_log": {
            "events": len(events),
            "head": events[-1].hash if events else scoring.GENESIS,
        },
    }
    await repository.seal(
        session,
        attempt,
        {"sealed_at": now, "sealed_by": by, "sheet": sheet, "sheet_sha256": scoring.sha256(sheet)},
    )
    double_check = bool((shown.exam.get("grading") or {}).get("double_check"))
    session.add_all(
        ExamExpertGrade(
            attempt_id=attempt.id,
            exam_content_id=attempt.exam_content_id,
            task=entry["number"],
            max_points=entry["max_points"],
            marks_needed=2 if double_check else 1,
        )
        for entry in tasks
        if entry["grading"] == "expert"
    )
    await append_result(
        session, attempt=attempt, exam=shown.exam, task_points=points, reason="sealed"
    )
    # The auto-graded tasks are evidence for the competencies their questions name
    # (competencies moves mastery in this transaction; expert tasks count once settled).
    await items_graded.fire(
        session,
        [
            GradedWork(
                source="exam",
                attempt_id=attempt.id,
                user_id=attempt.user_id,
                container_id=attempt.exam_content_id,
                container_version=attempt.exam_version,
                title=str(shown.exam.get("title", attempt.exam_content_id)),
                course_id=attempt.course_id,
                items=tuple(
                    GradedItem(
                        item_id=entry["question_id"],
                        version=entry["version"],
                        points=float(entry["points"]),
                        max_points=float(entry["max_points"]),
                        competencies=tuple(
                            shown.questions[entry["question_id"]].get("competencies", [])
                        ),
                    )
                    for entry in tasks
                    if "question_id" in entry
                ),
            )
        ],
    )


async def _settle(session: AsyncSession, attempts: Sequence[ExamAttempt], *, now: datetime) -> None:
    """Seal the open attempts past their deadline (plus grace), from their saved answers."""
    due = [a for a in attempts if _due(a, now)]
    if not due:
        return
    shown = await shown_of(due)
    for attempt in due:
        await _seal(session, attempt, shown=shown[attempt.id], now=now, by="deadline")


def _within_window(exam: Any, now: datetime) -> None:
    if exam.available_from is not None and now < exam.available_from:
        raise NotAvailable(f"the exam opens at {_iso(exam.available_from)}")
    if exam.available_until is not None and now >= exam.available_until:
        raise NotAvailable(f"the exam closed at {_iso(exam.available_until)}")


async def _weak_items(
    session: AsyncSession, *, user: User, exam: ExamContent
) -> dict[str, dict[str, float]]:
    """An adaptive exam's input: per pool question, the weak competencies it names and
    the learner's mastery of them now (``exams.hooks.mastery_wanted``)."""
    assert exam.adaptive is not None
    pool = sorted({q for task in exam.tasks for q in task.pool})
    named = await content.current_competencies(pool)
    mastery: dict[str, Decimal] = {}
    await mastery_wanted.fire(
        session, user.id, {c for codes in named.values() for c in codes}, mastery
    )
    return scoring.weak_items(
        named, {c: float(m) for c, m in mastery.items()}, below=exam.adaptive.below
    )


async def start(*, session: AsyncSession, user: User, exam_id: str) -> dict[str, Any]:
    """A new attempt: a secret random seed draws the variant (recorded with the versions
    of what it drew, so it can be drawn again and checked); the deadline is the server's
    clock plus the duration, never later than the exam's window."""
    exam, course = await content.visible_exam(session=session, viewer=user, exam_id=exam_id)
    await _may_take(session, user=user, course=course)
    now = _now()
    _within_window(exam, now)
    await repository.lock_starts(session, user_id=user.id, exam_id=exam_id)
    open_attempt = await repository.open_attempt(session, user_id=user.id, exam_id=exam_id)
    if open_attempt is not None:
        await _settle(session, [open_attempt], now=now)
        if open_attempt.sealed_at is None:
            raise AttemptOpen("an attempt is already open", attempt_id=str(open_attempt.id))
    used = await repository.attempts_used(session, user_id=user.id, exam_id=exam_id)
    if exam.max_attempts is not None and used.counted >= exam.max_attempts:
        raise NoAttemptsLeft(
            f"no attempts left: {used.counted} of {exam.max_attempts} used",
            attempts_used=used.counted,
        )
    seed = secrets.randbits(62)
    weak = None if exam.adaptive is None else await _weak_items(session, user=user, exam=exam)
    variant = scoring.draw(exam.model_dump(mode="json"), seed, weak=weak)
    versions = await content.current_versions(
        [v["question_id"] for v in variant if "question_id" in v]
    )
    for drawn in variant:
        if "question_id" in drawn:
            drawn["version"] = versions[drawn["question_id"]]
    deadline = now + timedelta(seconds=exam.duration_seconds)
    if exam.available_until is not None:
        deadline = min(deadline, exam.available_until)
    attempt = ExamAttempt(
        user_id=user.id,
        course_id=course.course.id,
        exam_content_id=exam_id,
        exam_version=exam.version,
        attempt_no=used.last_number + 1,
        seed=seed,
        variant=variant,
        started_at=now,
        deadline=deadline,
    )
    session.add(attempt)
    await session.flush()
    return await _public(session, attempt, now=now, answers={})


def _validate(attempt: ExamAttempt, answers: Sequence[ExamAnswer], shown: Shown) -> dict[int, Any]:
    """Answers keyed by task; every problem is a 422 naming the answer."""
    drawn = {int(v["task"]): v for v in attempt.variant}
    errors: list[dict[str, Any]] = []
    valid: dict[int, Any] = {}
    for index, item in enumerate(answers):
        field, message = f"answers[{index}].task", ""
        if item.task not in drawn:
            message = f"task {item.task} is not a task of this exam"
        elif item.task in valid:
            message = f"task {item.task} is answered twice"
        elif item.answer is not None:
            field = f"answers[{index}].answer"
            question_id = drawn[item.task].get("question_id")
            if question_id is None:
                if not isinstance(item.answer, str) or len(item.answer) > MAX_EXTENDED_ANSWER:
                    message = (
                        f"task {item.task} needs its answer as text of at most "
                        f"{MAX_EXTENDED_ANSWER} characters"
                    )
            else:
                try:
                    check_shape(shown.questions[question_id], item.answer)
                except AnswerShapeError as error:
                    message = f"task {item.task}: answer {error}"
        if message:
            errors.append({"field": field, "in": "body", "message": message, "type": "answer"})
        else:
            valid[item.task] = item.answer
    if errors:
        raise ValidationFailed("; ".join(e["message"] for e in errors), errors=errors)
    return valid


async def _append(
    session: AsyncSession, attempt: ExamAttempt, answers: Mapping[int, Any], *, now: datetime
) -> dict[int, Any]:
    """Append the answers that differ from the latest saved ones (a repeated autosave
    writes nothing), each event chained to the one before by hash; the latest answer of
    each task afterwards."""
    events = await repository.events(session, attempt.id)
    latest = _latest_answers(events)
    head, seq = (events[-1].hash, events[-1].seq) if events else (scoring.GENESIS, 0)
    at = _iso(now)
    assert at is not None
    for task, answer in sorted(answers.items()):
        if task in latest and latest[task] == answer:
            continue
        if task not in latest and answer is None:
            continue
        seq += 1
        digest = scoring.event_hash(head, seq=seq, task=task, answer=answer, at=at)
        session.add(
            ExamAnswerEvent(
                attempt_id=attempt.id,
                seq=seq,
                task=task,
                answer=answer,
                at=now,
                prev_hash=head,
                hash=digest,
            )
        )
        head = digest
        latest[task] = answer
    await session.flush()
    return latest


async def _open_for_answers(
    session: AsyncSession, *, user: User, attempt_id: uuid.UUID, now: datetime
) -> tuple[ExamAttempt, Shown]:
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    shown = (await shown_of([attempt]))[attempt.id]
    await _require_access(session, user=user, shown=shown)
    if attempt.sealed_at is not None:
        raise Sealed("the attempt is sealed")
    if _due(attempt, now):
        await _seal(session, attempt, shown=shown, now=now, by="deadline")
        raise TimeUp(
            f"the attempt's time is up (deadline plus {int(GRACE.total_seconds())} s): "
            "it is sealed with the answers saved before"
        )
    return attempt, shown


async def save_answers(
    *, session: AsyncSession, user: User, attempt_id: uuid.UUID, answers: Sequence[ExamAnswer]
) -> dict[str, Any]:
    now = _now()
    attempt, shown = await _open_for_answers(session, user=user, attempt_id=attempt_id, now=now)
    saved = await _append(session, attempt, _validate(attempt, answers, shown), now=now)
    return await _public(session, attempt, now=now, shown=shown, answers=saved)


async def submit(
    *, session: AsyncSession, user: User, attempt_id: uuid.UUID, answers: Sequence[ExamAnswer]
) -> dict[str, Any]:
    """Save the answers sent with it, then seal (a retry with the same Idempotency-Key
    is answered by the router before it gets here; another submit is a 409)."""
    now = _now()
    attempt, shown = await _open_for_answers(session, user=user, attempt_id=attempt_id, now=now)
    await _append(session, attempt, _validate(attempt, answers, shown), now=now)
    await _seal(session, attempt, shown=shown, now=now, by="submit")
    return await _public(session, attempt, now=now, shown=shown)


async def read(*, session: AsyncSession, user: User, attempt_id: uuid.UUID) -> dict[str, Any]:
    now = _now()
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    shown = (await shown_of([attempt]))[attempt.id]
    await _require_access(session, user=user, shown=shown)
    await _settle(session, [attempt], now=now)
    return await _public(session, attempt, now=now, shown=shown)


async def sheet(*, session: AsyncSession, user: User, attempt_id: uuid.UUID) -> dict[str, Any]:
    """The sealed sheet and its hash, once the review policy lets the learner see it
    (the sheet holds per-task points; DECISIONS 14). The hash is in every attempt view."""
    now = _now()
    attempt = await _mine(session, user=user, attempt_id=attempt_id)
    shown = (await shown_of([attempt]))[attempt.id]
    await _require_access(session, user=user, shown=shown)
    await _settle(session, [attempt], now=now)
    if attempt.sealed_at is None:
        raise NotSealed("the attempt is not sealed yet")
    result = (await repository.latest_results(session, [attempt.id]))[attempt.id]
    if not review_open(shown.exam, result, now=now):
        raise ReviewClosed("the exam's review policy does not show the sheet yet")
    return {"attempt_id": attempt.id, "sha256": attempt.sheet_sha256, "sheet": attempt.sheet}


async def mine(
    *,
    session: AsyncSession,
    user: User,
    exam_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[ExamAttemptSummary]:
    attempts = await repository.mine_page(
        session, user_id=user.id, exam_id=exam_id, after=after, limit=limit
    )
    await _settle(session, attempts, now=_now())
    results = await repository.latest_results(session, [a.id for a in attempts])
    return [_summary(a, results.get(a.id)) for a in attempts]


async def seal_due(*, session: AsyncSession, limit: int = 100) -> int:
    """Seal up to ``limit`` open attempts past their deadline plus grace, whoever owns
    them: the sweeper's unit of work. Rows another sealer holds are skipped, so several
    replicas (and ``syllabus exams seal-due`` from cron) never seal one twice."""
    now = _now()
    due = await repository.due(session, now=now - GRACE, limit=limit)
    await _settle(session, due, now=now)
    return len(due)


def review_open(exam: Mapping[str, Any], result: ExamResult | None, *, now: datetime) -> bool:
    """May the learner see keys, solutions and per-task points now? The exam's
    ``review_policy``: never; once the result is final; or once it is final and the
    exam's window has closed."""
    policy = exam.get("review_policy", "after_result")
    if policy == "never" or result is None or not result.final:
        return False
    if policy == "after_close":
        until = exam.get("available_until")
        if until is not None:
            closes = until if isinstance(until, datetime) else datetime.fromisoformat(until)
            return now >= (closes if closes.tzinfo else closes.replace(tzinfo=UTC))
    return True


def _result_public(result: ExamResult | None) -> ResultPublic | None:
    if result is None:
        return None
    return ResultPublic(
        version=result.version,
        primary_score=float(result.primary_score),
        max_primary=result.max_primary,
        test_score=result.test_score,
        passed=result.passed,
        final=result.final,
    )


def _summary(attempt: ExamAttempt, result: ExamResult | None) -> ExamAttemptSummary:
    assert attempt.started_at is not None
    return ExamAttemptSummary(
        id=attempt.id,
        exam_id=attempt.exam_content_id,
        exam_version=attempt.exam_version,
        attempt_no=attempt.attempt_no,
        status="sealed" if attempt.sealed_at else "open",
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        sealed_at=attempt.sealed_at,
        sealed_by=attempt.sealed_by,
        result=_result_public(result),
    )


async def _comments(session: AsyncSession, attempt: ExamAttempt) -> dict[int, str]:
    """Per expert task, the comments of the marks that decided it: the third grader's
    when there was one, else every grader's (no names)."""
    grades = {g.id: g.task for g in await repository.grades_of(session, attempt.id)}
    marks: dict[int, list[ExamExpertMark]] = {}
    for mark in await repository.marks_of(session, list(grades)):
        marks.setdefault(grades[mark.grade_id], []).append(mark)
    return {
        task: "\n\n".join(m.comment for m in given[2:] or given if m.comment)
        for task, given in marks.items()
    }


def _review(
    attempt: ExamAttempt, shown: Shown, comments: Mapping[int, str], result: ExamResult
) -> list[TaskReview]:
    review = []
    for entry in (attempt.sheet or {}).get("tasks", []):
        number = int(entry["number"])
        key = official = solution = None
        if "question_id" in entry:
            key = shown.questions[entry["question_id"]]["key"]
        else:
            problem = shown.problem(number, entry["problem_id"])
            official, solution = problem["answer"], problem.get("solution") or None
        review.append(
            TaskReview(
                task=number,
                points=result.task_points.get(str(number)),
                max_points=entry["max_points"],
                correct_answer=key,
                official_answer=official,
                solution=solution,
                comment=comments.get(number),
            )
        )
    return review


async def _public(
    session: AsyncSession,
    attempt: ExamAttempt,
    *,
    now: datetime,
    shown: Shown | None = None,
    answers: Mapping[int, Any] | None = None,
) -> dict[str, Any]:
    """The learner's view of an attempt, as JSON-ready data. ``answers``: the latest
    answer per task when the caller has them (an open attempt's are read otherwise)."""
    if shown is None:
        shown = (await shown_of([attempt]))[attempt.id]
    # Results are written at sealing: an open attempt has none to read.
    result = None
    if attempt.sealed_at is not None:
        result = (await repository.latest_results(session, [attempt.id])).get(attempt.id)
    tasks = []
    for drawn in attempt.variant:
        number = int(drawn["task"])
        task = shown.task(number)
        question = problem = None
        if "question_id" in drawn:
            question = content.question_public(shown.questions[drawn["question_id"]])
        else:
            found = shown.problem(number, drawn["problem_id"])
            problem = ProblemPublic(id=found["id"], prompt=found["prompt"])
        tasks.append(
            TaskShown(
                number=number,
                part=task["part"],
                grading=task["grading"],
                max_points=task["max_points"],
                question=question,
                problem=problem,
            )
        )
    if attempt.sheet is not None:
        given = {str(e["number"]): e["answer"] for e in attempt.sheet["tasks"]}
    else:
        if answers is None:
            answers = _latest_answers(await repository.events(session, attempt.id))
        given = {str(task): answer for task, answer in sorted(answers.items())}
    review = None
    if result is not None and review_open(shown.exam, result, now=now):
        review = _review(attempt, shown, await _comments(session, attempt), result)
    public = ExamAttemptPublic(
        **_summary(attempt, result).model_dump(),
        tasks=tasks,
        answers=given,
        sheet_sha256=attempt.sheet_sha256,
        review=review,
    )
    data: dict[str, Any] = public.model_dump(mode="json")
    return data


async def has_open_attempt(*, session: AsyncSession, user: User, course_id: uuid.UUID) -> bool:
    """An exam attempt of the course the learner can still answer (the tutor's lock)."""
    return await repository.open_in_course(
        session, user_id=user.id, course_id=course_id, deadline_after=_now() - GRACE
    )
