"""Learning queries. Rollups, streaks and points are computed in SQL, never by looping
over rows in Python; the outline's progress is one round trip whatever the course size."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import ContentIndex, Course
from syllabus.kit.ids import uuid7
from syllabus.kit.pagination import key_datetime
from syllabus.learning.models import Enrollment, LessonProgress

LIVE_ENROLLMENT = ("active", "completed")


@dataclass(frozen=True)
class LessonTarget:
    """A lesson as PUT /progress sees it: its course and the caller's enrollment."""

    course_id: uuid.UUID
    course_content_id: str
    enrollment_id: uuid.UUID | None
    enrollment_status: str | None


async def lesson_target(
    session: AsyncSession, *, user_id: uuid.UUID, lesson_id: str
) -> LessonTarget | None:
    """One query: the lesson's current course (via content_index) and my live enrollment."""
    row = (
        await session.execute(
            text(
                """
                SELECT i.course_id, c.content_id, e.id AS enrollment_id, e.status
                FROM content_index i
                JOIN courses c ON c.id = i.course_id AND c.deleted_at IS NULL
                LEFT JOIN enrollments e
                  ON e.course_id = i.course_id AND e.user_id = :user
                 AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL
                WHERE i.content_id = :lesson AND i.item_type = 'lesson'
                  AND i.status = 'active' AND i.deleted_at IS NULL
                """
            ),
            {"user": user_id, "lesson": lesson_id},
        )
    ).first()
    if row is None:
        return None
    return LessonTarget(row[0], row[1], row[2], row[3])


@dataclass(frozen=True)
class SavedProgress:
    row: dict[str, Any]
    inserted: bool
    just_completed: bool


async def upsert_progress(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    course_id: uuid.UUID,
    lesson_id: str,
    changes: dict[str, Any],
) -> SavedProgress:
    """INSERT … ON CONFLICT: idempotent under any concurrency. ``completed`` never goes
    back to ``started``, ``completed_at`` is set once, absent fields are kept. It also
    says whether *this* statement created the row or completed the lesson, so the
    activity log gets each event exactly once however many requests race."""
    completing = changes["status"] == "completed"
    values = {
        "id": uuid7(),  # from the app: time-ordered within the process, for keyset pages
        "user_id": user_id,
        "course_id": course_id,
        "lesson_content_id": lesson_id,
        **changes,
        "completed_at": text("statement_timestamp()") if completing else None,
    }
    statement = insert(LessonProgress).values(**values)
    table = LessonProgress.__table__  # type: ignore[attr-defined]
    updates: dict[str, Any] = {
        "status": text(
            "CASE WHEN lesson_progress.status = 'completed' THEN 'completed' "
            "ELSE excluded.status END"
        ),
        "completed_at": text("COALESCE(lesson_progress.completed_at, excluded.completed_at)"),
        "course_id": statement.excluded.course_id,
        "deleted_at": None,
    }
    for field in ("bookmarked", "note", "position"):
        if field in changes:
            updates[field] = statement.excluded[field]
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.lesson_content_id], set_=updates
    ).returning(
        *table.c,
        literal_column("(xmax = 0)").label("inserted"),
        literal_column("(completed_at IS NOT DISTINCT FROM statement_timestamp())").label(
            "just_completed"
        ),
    )
    row = (await session.execute(upsert)).mappings().one()
    return SavedProgress(
        row=dict(row), inserted=bool(row["inserted"]), just_completed=bool(row["just_completed"])
    )


COMPLETE_COURSES = text(
    """
    UPDATE enrollments e SET status = 'completed', completed_at = statement_timestamp()
    WHERE e.user_id = :user AND e.course_id = ANY(:courses) AND e.status = 'active'
      AND e.deleted_at IS NULL
      AND NOT EXISTS (
        SELECT FROM content_index i
        WHERE i.course_id = e.course_id AND i.required AND i.status = 'active'
          AND i.deleted_at IS NULL
          AND NOT CASE i.item_type
            WHEN 'lesson' THEN EXISTS (
              SELECT FROM lesson_progress p
              WHERE p.user_id = e.user_id AND p.lesson_content_id = i.content_id
                AND p.status = 'completed' AND p.deleted_at IS NULL)
            WHEN 'quiz' THEN quiz_passed(e.user_id, i.content_id)
            ELSE true END)
    RETURNING e.course_id
    """
)
"""The course's completion rule, from content: every *current* required lesson completed
and every current required quiz passed."""


async def complete_courses(
    session: AsyncSession, *, user_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Complete the learner's active enrollments in these courses that now meet the
    completion rule, in ONE statement however many courses (the rule is checked and
    applied together, so a course is completed once even when writes race). Returns
    the courses this call completed."""
    if not course_ids:
        return set()
    result = await session.execute(COMPLETE_COURSES, {"user": user_id, "courses": course_ids})
    return set(result.scalars())


@dataclass(frozen=True)
class OutlineState:
    """Everything PostgreSQL knows for an outline request, fetched in one query."""

    course_id: uuid.UUID
    status: str
    price_cents: int | None
    viewer_role: str | None
    enrollment_status: str | None
    lessons: dict[str, dict[str, Any]]
    passed_quizzes: set[str]
    last_activity_at: datetime | None


OUTLINE_STATE = text(
    """
    WITH course AS (
      SELECT id, status, price_cents FROM courses
      WHERE content_id = :course AND deleted_at IS NULL
    ), viewer AS (
      SELECT role FROM users WHERE id = :viewer AND deleted_at IS NULL
    ), enrollment AS (
      SELECT e.status FROM enrollments e JOIN course ON e.course_id = course.id
      WHERE e.user_id = :viewer AND e.status IN ('active', 'completed')
        AND e.deleted_at IS NULL
    ), progress AS (
      SELECT coalesce(json_object_agg(p.lesson_content_id, json_build_object(
               'status', p.status, 'bookmarked', p.bookmarked, 'position', p.position,
               'updated_at', p.updated_at)), '{}'::json) AS lessons,
             max(p.updated_at) AS last_activity_at
      FROM lesson_progress p JOIN course ON p.course_id = course.id
      WHERE p.user_id = :viewer AND p.deleted_at IS NULL
    ), passed AS (
      SELECT coalesce(array_agg(i.content_id) FILTER (
               WHERE quiz_passed(:viewer, i.content_id)), '{}') AS quizzes,
             (SELECT max(a.submitted_at) FROM quiz_attempts a JOIN course ON a.course_id = course.id
              WHERE a.user_id = :viewer AND a.deleted_at IS NULL) AS last_attempt_at
      FROM content_index i JOIN course ON i.course_id = course.id
      WHERE i.item_type = 'quiz' AND i.status = 'active' AND :viewer IS NOT NULL
    )
    SELECT course.id, course.status, course.price_cents,
           (SELECT role FROM viewer), (SELECT status FROM enrollment),
           progress.lessons, passed.quizzes,
           greatest(progress.last_activity_at, passed.last_attempt_at)
    FROM course, progress, passed
    """
)


async def outline_state(
    session: AsyncSession, *, course_content_id: str, viewer_id: uuid.UUID | None
) -> OutlineState | None:
    # Core, not ORM: one plain row back, on the request's own connection and transaction.
    connection = await session.connection()
    row = (
        await connection.execute(OUTLINE_STATE, {"course": course_content_id, "viewer": viewer_id})
    ).first()
    if row is None:
        return None
    return OutlineState(
        course_id=row[0],
        status=row[1],
        price_cents=row[2],
        viewer_role=row[3],
        enrollment_status=row[4],
        lessons=dict(row[5] or {}),
        passed_quizzes=set(row[6] or []),
        last_activity_at=row[7],
    )


async def get_enrollment(
    session: AsyncSession, *, enrollment_id: uuid.UUID, user_id: uuid.UUID
) -> Enrollment | None:
    result = await session.execute(
        select(Enrollment).where(
            col(Enrollment.id) == enrollment_id, col(Enrollment.user_id) == user_id
        )
    )
    return result.scalar_one_or_none()


async def insert_enrollment(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> Enrollment | None:
    """Insert unless a live enrollment exists (the partial unique index decides, so
    parallel requests cannot both win). None when one already existed."""
    table = Enrollment.__table__.c  # type: ignore[attr-defined]
    statement = (
        insert(Enrollment)
        .values(id=uuid7(), user_id=user_id, course_id=course_id, status="active")
        .on_conflict_do_nothing(
            index_elements=[table.user_id, table.course_id],
            index_where=text("status <> 'cancelled' AND deleted_at IS NULL"),
        )
        .returning(Enrollment)
    )
    result = await session.execute(select(Enrollment).from_statement(statement))
    return result.scalar_one_or_none()


async def list_enrollments(
    session: AsyncSession, *, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[Enrollment]:
    query = (
        select(Enrollment)
        .where(col(Enrollment.user_id) == user_id)
        .order_by(col(Enrollment.id))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(col(Enrollment.id) > after)
    return list((await session.execute(query)).scalars().all())


async def live_enrollment(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> Enrollment | None:
    result = await session.execute(
        select(Enrollment).where(
            col(Enrollment.user_id) == user_id,
            col(Enrollment.course_id) == course_id,
            col(Enrollment.status).in_(LIVE_ENROLLMENT),
        )
    )
    return result.scalar_one_or_none()


COURSE_ROLLUP = """
    WITH items AS (
      SELECT i.course_id, i.content_id, i.item_type, i.position, i.required
      FROM content_index i
      WHERE i.status = 'active' AND i.deleted_at IS NULL AND i.course_id = ANY(:courses)
    ), done AS (
      SELECT items.*, CASE items.item_type
          WHEN 'lesson' THEN EXISTS (SELECT 1 FROM lesson_progress p
            WHERE p.user_id = :user AND p.lesson_content_id = items.content_id
              AND p.status = 'completed' AND p.deleted_at IS NULL)
          WHEN 'quiz' THEN quiz_passed(:user, items.content_id)
          ELSE false END AS completed
      FROM items
    )
    SELECT course_id,
           count(*) FILTER (WHERE required AND completed) AS completed_required,
           count(*) FILTER (WHERE required) AS total_required,
           max(position) FILTER (WHERE completed) AS last_completed_position
    FROM done GROUP BY course_id
"""


async def course_rollups(
    session: AsyncSession, *, user_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """(completed required, total required) per course, for many courses in one query."""
    if not course_ids:
        return {}
    rows = await session.execute(text(COURSE_ROLLUP), {"user": user_id, "courses": course_ids})
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def percent(completed: int, total: int) -> float:
    return round(100.0 * completed / total, 1) if total else 0.0


MY_COURSES_ROLLUP = COURSE_ROLLUP.replace("ANY(:courses)", "ANY(SELECT course_id FROM mine)")

ActivityKey = tuple[datetime | None, str]
"""Where a page of my courses ends: its last activity (none yet sorts last) and id."""


def activity_key(key: list[Any]) -> ActivityKey:
    at, content_id = key
    if not isinstance(content_id, str):
        raise TypeError
    return (None if at is None else key_datetime(at)), content_id


def _after_activity(after: ActivityKey | None) -> tuple[str, dict[str, Any]]:
    """The keyset condition for ``ORDER BY activity.at DESC NULLS LAST, content_id``."""
    if after is None:
        return "", {}
    at, content_id = after
    if at is None:
        return "WHERE activity.at IS NULL AND mine.content_id > :after_id", {"after_id": content_id}
    return (
        "WHERE activity.at < :after_at OR activity.at IS NULL "
        "OR (activity.at = :after_at AND mine.content_id > :after_id)",
        {"after_at": at, "after_id": content_id},
    )


async def my_courses(
    session: AsyncSession, *, user_id: uuid.UUID, after: ActivityKey | None, limit: int
) -> list[Any]:
    """Live enrollments with their rollup, last activity and where to resume, most
    recently active first; ``limit + 1`` rows."""
    where, params = _after_activity(after)
    result = await session.execute(
        text(
            f"""
            WITH mine AS (
              SELECT e.course_id, e.status, c.content_id, c.title
              FROM enrollments e JOIN courses c ON c.id = e.course_id
              WHERE e.user_id = :user AND e.status IN ('active', 'completed')
                AND e.deleted_at IS NULL
            ), rollup AS ({MY_COURSES_ROLLUP}),
            started AS (
              SELECT DISTINCT ON (p.course_id) p.course_id, p.lesson_content_id, p.position
              FROM lesson_progress p JOIN content_index i
                ON i.content_id = p.lesson_content_id AND i.status = 'active'
              WHERE p.user_id = :user AND p.status = 'started' AND p.deleted_at IS NULL
              ORDER BY p.course_id, p.updated_at DESC
            ), activity AS (
              SELECT p.course_id, max(p.updated_at) AS at FROM lesson_progress p
              WHERE p.user_id = :user AND p.deleted_at IS NULL GROUP BY p.course_id
            )
            SELECT mine.content_id, mine.title, mine.status,
                   coalesce(rollup.completed_required, 0), coalesce(rollup.total_required, 0),
                   activity.at, started.lesson_content_id, started.position,
                   (SELECT i.content_id FROM content_index i
                     WHERE i.course_id = mine.course_id AND i.status = 'active'
                       AND i.position > coalesce(rollup.last_completed_position, -1)
                     ORDER BY i.position LIMIT 1) AS next_item,
                   (SELECT i.content_id FROM content_index i
                     WHERE i.course_id = mine.course_id AND i.status = 'active'
                     ORDER BY i.position LIMIT 1) AS first_item
            FROM mine
            LEFT JOIN rollup ON rollup.course_id = mine.course_id
            LEFT JOIN started ON started.course_id = mine.course_id
            LEFT JOIN activity ON activity.course_id = mine.course_id
            {where}
            ORDER BY activity.at DESC NULLS LAST, mine.content_id
            LIMIT :limit
            """
        ),
        {"user": user_id, "limit": limit + 1, **params},
    )
    return list(result.all())


async def lesson_notes(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    bookmarked_only: bool,
    after: uuid.UUID | None,
    limit: int,
) -> list[Any]:
    query = (
        select(
            col(LessonProgress.id),
            col(LessonProgress.lesson_content_id),
            col(Course.content_id),
            col(ContentIndex.title),
            col(LessonProgress.bookmarked),
            col(LessonProgress.note),
            col(LessonProgress.updated_at),
        )
        .join(Course, col(Course.id) == col(LessonProgress.course_id))
        .join(ContentIndex, col(ContentIndex.content_id) == col(LessonProgress.lesson_content_id))
        .where(col(LessonProgress.user_id) == user_id)
        .order_by(col(LessonProgress.id))
        .limit(limit + 1)
    )
    if bookmarked_only:
        query = query.where(col(LessonProgress.bookmarked))
    else:
        query = query.where(col(LessonProgress.note).is_not(None))
    if after is not None:
        query = query.where(col(LessonProgress.id) > after)
    return list((await session.execute(query)).all())


STATS = text(
    """
    WITH me AS (SELECT id, time_zone FROM users WHERE id = :user),
    days AS (
      SELECT DISTINCT (a.occurred_at AT TIME ZONE me.time_zone)::date AS day
      FROM activity_log a, me WHERE a.actor_id = me.id
        -- learning makes an activity day; signing up or enrolling alone does not
        AND a.verb IN ('started', 'completed', 'attempted', 'passed', 'failed')
    ), islands AS (
      SELECT day, day - (row_number() OVER (ORDER BY day))::int AS island FROM days
    ), runs AS (
      SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS length
      FROM islands GROUP BY island
    ), today AS (
      SELECT (statement_timestamp() AT TIME ZONE me.time_zone)::date AS day FROM me
    ), lessons AS (
      SELECT count(*) AS completed, coalesce(sum(i.points), 0) AS points
      FROM lesson_progress p JOIN content_index i ON i.content_id = p.lesson_content_id
      WHERE p.user_id = :user AND p.status = 'completed' AND p.deleted_at IS NULL
    ), quizzes AS (
      SELECT coalesce(sum(i.points), 0) AS points FROM content_index i
      WHERE i.item_type = 'quiz' AND quiz_passed(:user, i.content_id)
        AND EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.user_id = :user
                    AND a.quiz_content_id = i.content_id)
    ), courses AS (
      SELECT count(*) AS completed FROM enrollments
      WHERE user_id = :user AND status = 'completed' AND deleted_at IS NULL
    )
    SELECT
      coalesce((SELECT length FROM runs, today
                WHERE runs.last_day >= today.day - 1 ORDER BY runs.last_day DESC LIMIT 1), 0),
      coalesce((SELECT max(length) FROM runs), 0),
      (SELECT points FROM lessons) + (SELECT points FROM quizzes),
      (SELECT completed FROM lessons),
      (SELECT completed FROM courses),
      (SELECT time_zone FROM me)
    """
)


async def stats(
    session: AsyncSession, *, user_id: uuid.UUID
) -> tuple[int, int, int, int, int, str]:
    row = (await session.execute(STATS, {"user": user_id})).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), str(row[5])
