"""Learning rules: who may enroll, what a progress write means, and the outline and
course lists with my progress. Completion, rollups, streaks and awards are ``progress``'s
rules, paid access ``access``'s: this package calls them. Services never commit."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from syllabus.access import service as access
from syllabus.catalog import service as catalog
from syllabus.content import service as content
from syllabus.db.activity import Event, record_activity
from syllabus.db.sql import Driver
from syllabus.errors import Conflict, NotFound, ValidationFailed
from syllabus.identity import service as identity
from syllabus.identity.deps import BEARER
from syllabus.identity.models import STAFF_ROLES, User
from syllabus.learning import repository
from syllabus.learning.models import HEARTBEAT_LEAD_SECONDS, Enrollment
from syllabus.learning.repository import ActivityKey, NoteRow
from syllabus.learning.schemas import (
    CourseProgress,
    EnrollmentPublic,
    LessonNote,
    MyLessonProgress,
    PracticeProgressPublic,
    ProgressPublic,
    ProgressUpdate,
    Resume,
)
from syllabus.progress import service as progress
from syllabus.progress.repository import CourseCompletion
from syllabus.progress.schemas import AchievementPublic


class CourseClosed(Conflict):
    """Enrolling in a course that is not published (retired, or not yet open)."""

    title = "Course not open"
    code = "course-not-open"


class AlreadyEnrolled(Conflict):
    """Enrolling in a course the learner already holds a live enrollment in;
    ``enrollment_id`` names it."""

    title = "Already enrolled"
    code = "already-enrolled"


class NotCancellable(Conflict):
    """Cancelling an enrollment that is not active (already cancelled, or completed)."""

    title = "Enrollment not active"
    code = "enrollment-not-active"


async def _enrollments_public(
    session: AsyncSession, enrollments: list[Enrollment], *, user_id: uuid.UUID
) -> list[EnrollmentPublic]:
    """Enrollments with their course cards and percent complete: two queries in all."""
    courses = {
        row.course.id: row
        for row in await catalog.courses_by_ids(
            session=session, ids=[e.course_id for e in enrollments]
        )
    }
    rollups = await progress.course_rollups(
        session=session, user_id=user_id, course_ids=list(courses)
    )
    return [
        EnrollmentPublic(
            id=enrollment.id,
            course=catalog.course_public(courses[enrollment.course_id]),
            status=enrollment.status,
            enrolled_at=enrollment.enrolled_at,
            completed_at=enrollment.completed_at,
            percent_complete=rollups.get(
                enrollment.course_id, CourseCompletion.none()
            ).percent_complete,
        )
        for enrollment in enrollments
    ]


async def enroll(
    *, session: AsyncSession, actor: User, user: User, course_ref: str, by_admin: bool = False
) -> EnrollmentPublic:
    """A learner enrolls in a free course, or a paid one they are entitled to (a
    subscription; a purchase enrolls them itself); an admin enrolling someone in a paid
    course grants it too (``access``'s admin grant), so the enrollment opens it."""
    course = await catalog.visible_course(session=session, viewer=actor, course_ref=course_ref)
    if course.course.status != "published":
        raise CourseClosed(
            f"{course.course.content_id} is not open for enrollment", field="course_id"
        )
    if by_admin:
        await access.grant_with_enrollment(session=session, user_id=user.id, course=course)
    elif not await access.may_enroll(session=session, user=user, course=course):
        raise access.PurchaseRequired(
            f"{course.course.content_id} costs {course.course.price_cents} cents: "
            "purchase it first (POST /api/v1/checkout)",
            price_cents=course.course.price_cents,
        )
    enrollment = await repository.insert_enrollment(
        session, user_id=user.id, course_id=course.course.id
    )
    if enrollment is None:
        existing = await repository.live_enrollment(
            session, user_id=user.id, course_id=course.course.id
        )
        raise AlreadyEnrolled(
            "already enrolled in this course",
            enrollment_id=str(existing.id) if existing else None,
        )
    await record_activity(
        session,
        actor_id=user.id,
        verb="enrolled",
        object_type="course",
        object_id=course.course.content_id,
        course_id=course.course.id,
    )
    return (await _enrollments_public(session, [enrollment], user_id=user.id))[0]


async def enroll_purchased(
    *, session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID
) -> None:
    """A purchase enrolls the buyer (``commerce``'s flow calls this in the payment's
    transaction): a live enrollment is kept; else the latest cancelled one is active
    again (progress and attempts were never removed); else a new one."""
    if await repository.live_enrollment(session, user_id=user_id, course_id=course_id):
        return
    if await repository.reactivate_latest(session, user_id=user_id, course_id=course_id):
        return
    await repository.insert_enrollment(session, user_id=user_id, course_id=course_id)


async def cancel_refunded(
    *, session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID
) -> None:
    """A full refund cancels the active enrollment; progress and attempts are kept, and
    a completed enrollment stays completed (the entitlement is what closes the course)."""
    await repository.cancel_active(session, user_id=user_id, course_id=course_id)


async def admin_enroll(
    *, session: AsyncSession, admin: User, user_id: uuid.UUID, course_ref: str
) -> EnrollmentPublic:
    """An admin enrolls a learner: no purchase needed."""
    learner = await identity.user_by_id(session=session, user_id=user_id)
    if learner is None:
        raise NotFound("no such user", field="user_id")
    return await enroll(
        session=session, actor=admin, user=learner, course_ref=course_ref, by_admin=True
    )


async def my_enrollments(
    *, session: AsyncSession, user: User, after: uuid.UUID | None, limit: int
) -> list[EnrollmentPublic]:
    """Mine, in enrollment order, ``limit + 1`` of them (the caller pages)."""
    enrollments = await repository.list_enrollments(
        session, user_id=user.id, after=after, limit=limit
    )
    return await _enrollments_public(session, enrollments, user_id=user.id)


async def cancel(
    *, session: AsyncSession, user: User, enrollment_id: uuid.UUID
) -> EnrollmentPublic:
    """Only an active enrollment; of parallel cancels exactly one wins (one event), the
    others see it cancelled (409)."""
    enrollment = await repository.cancel_enrollment(
        session, enrollment_id=enrollment_id, user_id=user.id
    )
    if enrollment is None:
        existing = await repository.get_enrollment(
            session, enrollment_id=enrollment_id, user_id=user.id
        )
        if existing is None:
            raise NotFound("no such enrollment of yours", field="enrollment_id")
        raise NotCancellable(f"a {existing.status} enrollment cannot be cancelled")
    public = (await _enrollments_public(session, [enrollment], user_id=user.id))[0]
    await record_activity(
        session,
        actor_id=user.id,
        verb="cancelled",
        object_type="course",
        object_id=public.course.id,
        course_id=enrollment.course_id,
    )
    return public


def _refuse(field: str, message: str, kind: str) -> ValidationFailed:
    return ValidationFailed(
        message, errors=[{"field": field, "in": "body", "message": message, "type": kind}]
    )


def _check_update(data: ProgressUpdate) -> ValidationFailed | None:
    """A write without ``status`` saves a bookmark, a note or time spent, nothing that is
    progress: the refusal, if the body breaks that."""
    if data.status is not None:
        return None
    if data.position is not None:
        return _refuse(
            "position",
            "a resume position is progress: send status (started or completed) with it",
            "position_needs_status",
        )
    if data.bookmarked is None and "note" not in data.model_fields_set and not data.time_spent:
        return _refuse("status", "send status, bookmarked, note or time_spent", "nothing_to_save")
    return None


def _heartbeat_ahead() -> ValidationFailed:
    message = (
        f"a session's total may run at most {HEARTBEAT_LEAD_SECONDS} s ahead of the time "
        "since its first heartbeat; send the total so far, not more"
    )
    return _refuse("time_spent.seconds", message, "ahead_of_clock")


async def save_progress(
    *,
    connection: AsyncConnection | Driver,
    user_id: uuid.UUID,
    lesson_id: str,
    data: ProgressUpdate,
) -> ProgressPublic:
    """Record progress on a lesson: ONE statement, ``save_lesson_progress()`` (migration
    0037), which applies every rule of the write in the database (who may write, the
    upsert that never goes back, the heartbeat, completion and awards by ``progress``'s
    SQL rules, the activity log) and answers an outcome; each refusal is rendered here
    as before (404, 403, then the body's own 422s), and nothing is written unless ok.

    ``connection`` may be autocommit (the statement is atomic by itself; the fast path
    hands the driver itself) or the request's transaction (a keyed write, stored with its
    answer)."""
    refusal = _check_update(data)
    beat = data.time_spent
    saved = await repository.save_progress(
        connection,
        user_id=user_id,
        lesson_id=lesson_id,
        changes=data.model_dump(mode="json", exclude_unset=True, exclude={"time_spent"}),
        heartbeat=(beat.session_id, beat.seconds) if beat else None,
        refused=refusal is not None,
        staff=STAFF_ROLES,
    )
    if saved.outcome == "no_user":  # erased or deleted since the token was issued
        raise identity.TokenRejected(
            "access token is invalid or expired", headers={"WWW-Authenticate": "Bearer"}
        )
    if saved.outcome == "not_found":
        # A lesson of a course the learner may not see reads exactly like no lesson.
        raise NotFound(f"no lesson {lesson_id} in any current course", field="lesson_id")
    if saved.outcome == "enrollment_required":
        raise access.EnrollmentRequired(f"enroll in {saved.course_content_id} to record progress")
    if refusal is not None:
        raise refusal
    if saved.outcome == "ahead_of_clock":
        raise _heartbeat_ahead()
    row = saved.row
    return ProgressPublic(
        lesson_id=lesson_id,
        course_id=row["course_content_id"],
        status=row["status"],
        completed_at=row["completed_at"],
        bookmarked=row["bookmarked"],
        note=row["note"],
        position=row["position"],
        time_spent_seconds=row["time_spent_seconds"],
        updated_at=row["updated_at"],
        course_completed=row["course_completed"],
        achievements_earned=[AchievementPublic.model_validate(a) for a in row["achievements"]],
    )


NOT_STARTED = MyLessonProgress(
    status="not_started", bookmarked=False, note=None, position=None, updated_at=None
)


async def open_lesson(
    *, connection: AsyncConnection, viewer_id: uuid.UUID | None, lesson_id: str
) -> tuple[bytes, str]:
    """A lesson the viewer may open (``catalog``'s and ``access``'s rules; previews:
    anyone who sees the course), its module, the items on either side and the viewer's
    record of it, as JSON; and an ETag source that covers all of it, so a 304 is never
    an answer to a stale note or position. One PostgreSQL query; the lesson itself from
    the content cache when warm (``content.lesson_json``), so no MongoDB."""
    state = await repository.lesson_state(connection, lesson_id=lesson_id, viewer_id=viewer_id)
    if state is not None and viewer_id is not None and state.viewer_role is None:
        raise identity.TokenRejected("access token is invalid or expired", headers=BEARER)
    if state is None or not catalog.visible_to(state.course_status, state.viewer_role):
        raise content.missing("lesson", lesson_id)  # absent, hidden, or out of its outline
    if not state.preview:
        access.refuse_open(
            paid=state.paid, role=state.viewer_role, entitled=state.entitled, what="lesson"
        )
    lesson, content_etag = await content.lesson_json(lesson_id, expected=state.content_key)
    mine = None
    if viewer_id is not None:
        mine = NOT_STARTED
        if state.progress:  # a bookmark or note alone leaves the lesson not started
            saved = {**state.progress, "status": state.progress["status"] or "not_started"}
            mine = MyLessonProgress.model_validate(saved)
    personal = {
        "module": state.module,
        "previous": state.previous,
        "next": state.next,
        "progress": mine.model_dump(mode="json") if mine else None,
    }
    # The lesson's JSON object, cached as bytes, gets the personal fields spliced in: the
    # shape of LessonWithProgress (the route's documented response model).
    body = lesson[:-1] + b"," + to_json(personal)[1:]
    etag_state = json.dumps(
        [state.module, state.previous, state.next, viewer_id is not None, state.progress],
        sort_keys=True,
    )
    return body, hashlib.sha256(f"{content_etag}\n{etag_state}".encode()).hexdigest()


async def complete_practice(
    *, session: AsyncSession, user: User, practice_id: str
) -> PracticeProgressPublic:
    """Mark a practice of my course done (its points count from now): idempotent; the
    first completion records the activity and may complete the course and award."""
    target = await repository.item_target(
        session, user_id=user.id, item_id=practice_id, item_type="practice"
    )
    if target is None or not catalog.visible_to(target.course_status, user.role):
        raise NotFound(f"no practice {practice_id} in any current course", field="practice_id")
    if target.enrollment_id is None:
        raise access.EnrollmentRequired(f"enroll in {target.course_content_id} to record progress")
    row, just_completed = await repository.complete_practice(
        session, user_id=user.id, course_id=target.course_id, practice_id=practice_id
    )
    course_completed = False
    earned: list[AchievementPublic] = []
    if just_completed:
        events = [
            Event(
                verb="completed",
                object_type="practice",
                object_id=practice_id,
                course_id=target.course_id,
            )
        ]
        if target.enrollment_status == "active":
            completion = await progress.complete_if_done(
                session=session,
                user_id=user.id,
                courses={target.course_id: target.course_content_id},
            )
            course_completed = bool(completion)
            events += completion
        earned = await progress.award(session=session, user_id=user.id, along=events)
    assert row.completed_at is not None
    return PracticeProgressPublic(
        practice_id=practice_id,
        course_id=target.course_content_id,
        status="completed",
        completed_at=row.completed_at,
        course_completed=course_completed,
        achievements_earned=earned,
    )


def _resume(
    outline: content.OutlineJson, lessons: dict[str, dict[str, Any]], done: set[str]
) -> dict[str, Any] | None:
    """The started lesson (the latest), else the item after the last completed one,
    else the first item: a :class:`Resume` as JSON-ready data (``position`` is the
    client's own object, kept as saved)."""
    order, index = outline.item_ids, outline.index
    started = [
        (state["updated_at"], lesson_id)
        for lesson_id, state in lessons.items()
        if state["status"] == "started" and lesson_id in index
    ]
    if started:
        _, lesson_id = max(started)
        return {"item_id": lesson_id, "position": lessons[lesson_id]["position"]}
    last_done = max((index[item_id] for item_id in done if item_id in index), default=None)
    if last_done is not None and last_done + 1 < len(order):
        return {"item_id": order[last_done + 1], "position": None}
    return {"item_id": order[0], "position": None} if order else None


def _json_time(value: datetime | None) -> str | None:
    """ISO 8601 as pydantic writes it (``Z`` for UTC), for the hand-built outline."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _encoded_item(status: str, bookmarked: bool, position: Any) -> bytes:
    """An item's personal fields (:class:`ItemProgress`) as ``,"key":value`` pairs."""
    mine = {"status": status, "bookmarked": bookmarked, "position": position}
    return b"," + to_json(mine)[1:-1]


UNTOUCHED_ITEM = _encoded_item("not_started", False, None)
"""Where the viewer has no record of an item."""
PLAIN_ITEMS = {
    (status, bookmarked): _encoded_item(status, bookmarked, None)
    for status in ("not_started", "started", "completed", "passed")
    for bookmarked in (False, True)
}
"""The fields of every item without a position, encoded once."""


def _item_fields(
    outline: content.OutlineJson, lessons: dict[str, dict[str, Any]], passed: set[str]
) -> list[bytes]:
    """Each item's personal fields as JSON, in outline order: encoded only for the items
    the viewer has a record of (or passed), the rest share :data:`UNTOUCHED_ITEM`."""
    fields = [UNTOUCHED_ITEM] * len(outline.item_ids)
    for item_id in lessons.keys() | passed:
        place = outline.index.get(item_id)
        if place is None:
            continue  # progress on an item no longer in this version's outline
        row = lessons.get(item_id, {})
        status = "passed" if item_id in passed else row.get("status") or "not_started"
        bookmarked, position = bool(row.get("bookmarked", False)), row.get("position")
        plain = PLAIN_ITEMS.get((status, bookmarked)) if position is None else None
        fields[place] = plain or _encoded_item(status, bookmarked, position)
    return fields


async def outline_with_progress(
    *, connection: AsyncConnection, viewer_id: uuid.UUID | None, course_ref: str
) -> tuple[bytes, str]:
    """One PostgreSQL query (course, viewer, enrollment, progress, the rollup by
    ``progress``'s rule) and, on a cold cache, one MongoDB read (the course document with
    its items), whatever the size of the course.

    The hottest read of the API: the shared outline is encoded once per course version
    (``content.outline_json``) and the viewer's fields are spliced into its bytes, in the
    shape of :class:`OutlineWithProgress` (the route's documented response model);
    bench/outline.py measures it against a bare baseline.
    """
    course_id = catalog.content_id_of(course_ref)
    state = await repository.outline_state(
        connection, course_content_id=course_id, viewer_id=viewer_id
    )
    if state is not None and viewer_id is not None and state.viewer_role is None:
        raise identity.TokenRejected("access token is invalid or expired")  # the user is gone
    if state is None or not catalog.visible_to(state.status, state.viewer_role):
        raise NotFound(f"no course {course_id}")
    outline = await content.outline_json(course_id, expected=state.content_version)
    personal = _json_time(state.last_activity_at) or ""
    etag_source = f"{outline.etag}:{state.enrollment_status}:{personal}:{sorted(state.done)}"
    return outline_body(outline=outline, state=state), etag_source


def outline_body(*, outline: content.OutlineJson, state: repository.OutlineState) -> bytes:
    """The outline's JSON with the viewer's item fields and ``progress`` spliced in: no
    I/O, so bench/outline_body.py times it alone."""
    progress = b"null"
    if state.enrollment_status is not None:
        progress = to_json(
            {
                "percent_complete": state.percent_complete,
                "completed_required": state.completed_required,
                "total_required": state.total_required,
                "resume": _resume(outline, state.lessons, state.done),
                "last_activity_at": _json_time(state.last_activity_at),
                "enrollment_status": state.enrollment_status,
            }
        )
    return outline.render(_item_fields(outline, state.lessons, state.passed_quizzes), progress)


async def my_progress(
    *, session: AsyncSession, user: User, after: ActivityKey | None, limit: int
) -> list[tuple[ActivityKey, CourseProgress]]:
    """My courses, most recently active first, each with its page key; ``limit + 1``."""
    result = []
    for row in await repository.my_courses(session, user_id=user.id, after=after, limit=limit):
        resume_at = row.next_item or row.first_item
        resume = (
            Resume(item_id=row.started_lesson, position=row.started_position)
            if row.started_lesson
            else Resume(item_id=resume_at)
            if resume_at
            else None
        )
        progress_public = CourseProgress(
            course_id=row.course_id,
            title=row.title,
            enrollment_status=row.enrollment_status,
            percent_complete=row.percent_complete,
            completed_required=row.completed_required,
            total_required=row.total_required,
            last_activity_at=row.last_activity_at,
            resume=resume,
            time_spent_seconds=row.time_spent_seconds,
        )
        result.append((row.key, progress_public))
    return result


async def notes(
    *,
    session: AsyncSession,
    user: User,
    bookmarked_only: bool,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[uuid.UUID, LessonNote]]:
    """My bookmarked lessons, or my notes, in the order first touched, each with its page
    key; ``limit + 1``."""

    def public(row: NoteRow) -> LessonNote:
        return LessonNote(
            lesson_id=row.lesson_id,
            course_id=row.course_id,
            title=row.title,
            bookmarked=row.bookmarked,
            note=row.note,
            updated_at=row.updated_at,
        )

    rows = await repository.lesson_notes(
        session, user_id=user.id, bookmarked_only=bookmarked_only, after=after, limit=limit
    )
    return [(row.id, public(row)) for row in rows]
