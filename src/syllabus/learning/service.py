"""Learning rules: who may enroll, what a progress write means, when a course is
complete, and the learner's rollups and stats. Services never commit."""

import math
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.analytics.activity import Event, record_activity, record_events
from syllabus.assessment import achievements
from syllabus.catalog import service as catalog
from syllabus.catalog.repository import CourseRow
from syllabus.content import service as content
from syllabus.errors import Conflict, Forbidden, NotFound, PaymentRequired, Unauthorized
from syllabus.identity.models import STAFF_ROLES, User
from syllabus.learning import repository
from syllabus.learning.models import Enrollment
from syllabus.learning.schemas import (
    CourseProgress,
    EnrollmentPublic,
    ProgressPublic,
    ProgressUpdate,
    Resume,
    Stats,
)

POINTS_PER_LEVEL_STEP = 50
"""Level n starts at 50 * (n - 1)^2 points: 1 at 0, 2 at 50, 3 at 200, 4 at 450, …"""


def level_for(points: int) -> tuple[int, int]:
    """(level, points needed for the next one)."""
    level = math.isqrt(max(points, 0) // POINTS_PER_LEVEL_STEP) + 1
    while POINTS_PER_LEVEL_STEP * level * level <= points:  # isqrt of a floor: settle up
        level += 1
    while level > 1 and POINTS_PER_LEVEL_STEP * (level - 1) ** 2 > points:
        level -= 1
    return level, POINTS_PER_LEVEL_STEP * level * level


def purchase_required(course: CourseRow) -> bool:
    """The one place that decides whether enrolling costs money. Payments will answer
    "has this user paid?" here; until then every priced course needs a purchase."""
    return bool(course.course.price_cents)


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
    rollups = await repository.course_rollups(session, user_id=user_id, course_ids=list(courses))
    return [
        EnrollmentPublic(
            id=enrollment.id,
            course=catalog.course_public(courses[enrollment.course_id]),
            status=enrollment.status,
            enrolled_at=enrollment.enrolled_at,
            completed_at=enrollment.completed_at,
            percent_complete=repository.percent(*rollups.get(enrollment.course_id, (0, 0))),
        )
        for enrollment in enrollments
    ]


async def enroll(
    *, session: AsyncSession, actor: User, user: User, course_ref: str, paid_by_admin: bool = False
) -> EnrollmentPublic:
    course = await catalog.visible_course(session=session, viewer=actor, course_ref=course_ref)
    if course.course.status != "published":
        raise Conflict(f"{course.course.content_id} is not open for enrollment", field="course_id")
    if purchase_required(course) and not paid_by_admin:
        raise PaymentRequired(
            f"{course.course.content_id} costs {course.course.price_cents} cents: "
            "purchase it first",
            price_cents=course.course.price_cents,
        )
    enrollment = await repository.insert_enrollment(
        session, user_id=user.id, course_id=course.course.id
    )
    if enrollment is None:
        existing = await repository.live_enrollment(
            session, user_id=user.id, course_id=course.course.id
        )
        raise Conflict(
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
    enrollment = await repository.get_enrollment(
        session, enrollment_id=enrollment_id, user_id=user.id
    )
    if enrollment is None:
        raise NotFound("no such enrollment of yours", field="enrollment_id")
    if enrollment.status != "active":
        raise Conflict(f"a {enrollment.status} enrollment cannot be cancelled")
    enrollment.status = "cancelled"
    await session.flush()
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


async def complete_if_done(
    session: AsyncSession, *, user_id: uuid.UUID, courses: Mapping[uuid.UUID, str]
) -> list[Event]:
    """Complete the learner's active enrollments in ``courses`` (id -> content id) whose
    rule is now met, in one statement however many (called by the write that may have
    met it, inside its transaction). Returns the ``completed`` activity of each course
    this call completed, for the caller to record along with its own events."""
    completed = await repository.complete_courses(
        session, user_id=user_id, course_ids=list(courses)
    )
    return [
        Event(verb="completed", object_type="course", object_id=content_id, course_id=course_id)
        for course_id, content_id in courses.items()
        if course_id in completed
    ]


async def save_progress(
    *, session: AsyncSession, user: User, lesson_id: str, data: ProgressUpdate
) -> ProgressPublic:
    target = await repository.lesson_target(session, user_id=user.id, lesson_id=lesson_id)
    if target is None:
        raise NotFound(f"no lesson {lesson_id} in any current course", field="lesson_id")
    if target.enrollment_id is None:
        raise Forbidden(f"enroll in {target.course_content_id} to record progress")
    saved = await repository.upsert_progress(
        session,
        user_id=user.id,
        course_id=target.course_id,
        lesson_id=lesson_id,
        changes=data.model_dump(exclude_unset=True),
    )
    events = [
        Event(verb=verb, object_type="lesson", object_id=lesson_id, course_id=target.course_id)
        for verb, happened in (("started", saved.inserted), ("completed", saved.just_completed))
        if happened
    ]
    course_completed = False
    if saved.just_completed and target.enrollment_status == "active":
        completion = await complete_if_done(
            session,
            user_id=user.id,
            courses={target.course_id: target.course_content_id},
        )
        course_completed = bool(completion)
        events += completion
    if saved.just_completed:
        # This write's events are recorded with the awards, after the streak is counted:
        # a lesson's own event does not count towards the streak it might earn.
        await achievements.award(session, user_id=user.id, along=events)
    else:
        await record_events(session, actor_id=user.id, events=events)
    row = saved.row
    return ProgressPublic(
        lesson_id=lesson_id,
        course_id=target.course_content_id,
        status=row["status"],
        completed_at=row["completed_at"],
        bookmarked=row["bookmarked"],
        note=row["note"],
        position=row["position"],
        updated_at=row["updated_at"],
        course_completed=course_completed,
    )


def _resume(order: list[str], lessons: dict[str, dict[str, Any]], done: set[str]) -> Resume | None:
    """The started lesson (the latest), else the item after the last completed one,
    else the first item."""
    started = [
        (state["updated_at"], lesson_id)
        for lesson_id, state in lessons.items()
        if state["status"] == "started" and lesson_id in order
    ]
    if started:
        _, lesson_id = max(started)
        return Resume(item_id=lesson_id, position=lessons[lesson_id]["position"])
    completed_positions = [index for index, item_id in enumerate(order) if item_id in done]
    if completed_positions and completed_positions[-1] + 1 < len(order):
        return Resume(item_id=order[completed_positions[-1] + 1])
    return Resume(item_id=order[0]) if order else None


def _json_time(value: datetime | None) -> str | None:
    """ISO 8601 as pydantic writes it (``Z`` for UTC), for the hand-built outline."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


async def outline_with_progress(
    *, session: AsyncSession, viewer_id: uuid.UUID | None, course_ref: str
) -> tuple[dict[str, Any], str]:
    """One PostgreSQL query (course, viewer, enrollment, progress) and one MongoDB read
    (the course document with its items), whatever the size of the course.

    The hottest read of the API, so the body is built as plain data in the shape of
    :class:`OutlineWithProgress` (the route's documented response model) instead of
    through a model per item: bench/outline.py measures the difference.
    """
    course_id = catalog.content_id_of(course_ref)
    state = await repository.outline_state(
        session, course_content_id=course_id, viewer_id=viewer_id
    )
    if state is not None and viewer_id is not None and state.viewer_role is None:
        raise Unauthorized("access token is invalid or expired")  # the user is gone
    if state is None or (state.status != "published" and state.viewer_role not in STAFF_ROLES):
        raise NotFound(f"no course {course_id}")
    outline, content_etag = await content.course_outline(course_id)
    lessons, passed = state.lessons, state.passed_quizzes
    done = {lesson_id for lesson_id, row in lessons.items() if row["status"] == "completed"}
    done |= passed
    completed_required = total_required = 0
    for module in outline["modules"]:
        items = []
        for item in module["items"]:
            row = lessons.get(item["id"], {})
            status = "passed" if item["id"] in passed else row.get("status", "not_started")
            if item["required"]:
                total_required += 1
                completed_required += item["id"] in done
            items.append(
                {
                    **item,
                    "status": status,
                    "bookmarked": bool(row.get("bookmarked", False)),
                    "position": row.get("position"),
                }
            )
        module["items"] = items
    outline["progress"] = None
    if state.enrollment_status is not None:
        order = [item["id"] for module in outline["modules"] for item in module["items"]]
        resume = _resume(order, lessons, done)
        outline["progress"] = {
            "percent_complete": repository.percent(completed_required, total_required),
            "completed_required": completed_required,
            "total_required": total_required,
            "resume": resume.model_dump() if resume else None,
            "last_activity_at": _json_time(state.last_activity_at),
            "enrollment_status": state.enrollment_status,
        }
    personal = _json_time(state.last_activity_at) or ""
    return outline, f"{content_etag}:{state.enrollment_status}:{personal}:{sorted(done)}"


async def my_progress(
    *, session: AsyncSession, user: User, after: repository.ActivityKey | None, limit: int
) -> list[tuple[repository.ActivityKey, CourseProgress]]:
    """My courses, most recently active first, each with its page key; ``limit + 1``."""
    result = []
    for row in await repository.my_courses(session, user_id=user.id, after=after, limit=limit):
        (content_id, title, status, done, total, last, started, position, next_item, first) = row
        resume = (
            Resume(item_id=started, position=position)
            if started
            else Resume(item_id=next_item or first)
            if (next_item or first)
            else None
        )
        progress = CourseProgress(
            course_id=content_id,
            title=title,
            enrollment_status=status,
            percent_complete=repository.percent(done, total),
            completed_required=done,
            total_required=total,
            last_activity_at=last,
            resume=resume,
        )
        result.append(((last, content_id), progress))
    return result


async def stats(*, session: AsyncSession, user: User) -> Stats:
    current, longest, points, lessons, courses, time_zone = await repository.stats(
        session, user_id=user.id
    )
    level, next_level = level_for(points)
    return Stats(
        current_streak_days=current,
        longest_streak_days=longest,
        points=points,
        level=level,
        next_level_points=next_level,
        completed_lessons=lessons,
        completed_courses=courses,
        time_zone=time_zone,
    )
