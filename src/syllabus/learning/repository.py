"""Learning queries: enrollments, lesson progress, the outline's state, my courses and my
notes. Completion and rollups are ``progress``'s rules, read here from its SQL views
(``course_completion``, ``items_done``) so every answer uses the one definition; the
outline's state is one round trip whatever the course size."""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from syllabus.access.repository import ENTITLED_SQL
from syllabus.catalog.models import ContentIndex, Course
from syllabus.db.sql import Driver
from syllabus.kit.ids import uuid7
from syllabus.kit.pagination import key_datetime
from syllabus.learning.models import Enrollment, LessonProgress, PracticeProgress

LIVE_ENROLLMENT = ("active", "completed")


@dataclass(frozen=True)
class LessonTarget:
    """A lesson as PUT /progress sees it: its course and the caller's enrollment."""

    course_id: uuid.UUID
    course_content_id: str
    course_status: str
    enrollment_id: uuid.UUID | None
    enrollment_status: str | None


async def item_target(
    session: AsyncSession, *, user_id: uuid.UUID, item_id: str, item_type: str
) -> LessonTarget | None:
    """One query: a current course item's course (via content_index) and my live
    enrollment in it."""
    row = (
        await session.execute(
            text(
                """
                SELECT i.course_id, c.content_id, c.status AS course_status,
                       e.id AS enrollment_id, e.status
                FROM content_index i
                JOIN courses c ON c.id = i.course_id AND c.deleted_at IS NULL
                LEFT JOIN enrollments e
                  ON e.course_id = i.course_id AND e.user_id = :user
                 AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL
                WHERE i.content_id = :item AND i.item_type = :type
                  AND i.status = 'active' AND i.deleted_at IS NULL
                """
            ),
            {"user": user_id, "item": item_id, "type": item_type},
        )
    ).first()
    if row is None:
        return None
    return LessonTarget(row[0], row[1], row[2], row[3], row[4])


@dataclass(frozen=True)
class LessonState:
    """Everything PostgreSQL knows for a lesson read, fetched in one query: the lesson's
    content key and course, the viewer's role and entitlement (``access`` decides on
    them), where the lesson sits in its course's current outline, and the viewer's
    record of it (``progress`` is None when there is none, or no viewer)."""

    content_key: tuple[int, str | None]
    preview: bool
    course_status: str
    paid: bool
    viewer_role: str | None
    entitled: bool
    module: dict[str, Any]
    previous: dict[str, Any] | None
    next: dict[str, Any] | None
    progress: dict[str, Any] | None


LESSON_STATE = text(
    f"""
    SELECT i.version, i.content_hash, i.preview, c.status,
           coalesce(c.price_cents, 0) > 0 AS paid,
           (SELECT u.role FROM users u WHERE u.id = :user AND u.deleted_at IS NULL) AS role,
           {ENTITLED_SQL} AS entitled,
           json_build_object('id', i.module_id, 'title', i.module_title,
                             'order', i.module_order) AS module,
           (SELECT json_build_object('id', s.content_id, 'type', s.item_type, 'title', s.title)
            FROM content_index s
            WHERE s.course_id = i.course_id AND s.position < i.position
              AND s.status = 'active' AND s.deleted_at IS NULL
            ORDER BY s.position DESC LIMIT 1) AS previous,
           (SELECT json_build_object('id', s.content_id, 'type', s.item_type, 'title', s.title)
            FROM content_index s
            WHERE s.course_id = i.course_id AND s.position > i.position
              AND s.status = 'active' AND s.deleted_at IS NULL
            ORDER BY s.position LIMIT 1) AS next,
           (SELECT json_build_object('status', p.status, 'bookmarked', p.bookmarked,
                                     'note', p.note, 'position', p.position,
                                     'updated_at', p.updated_at)
            FROM lesson_progress p
            WHERE p.user_id = :user AND p.lesson_content_id = i.content_id
              AND p.deleted_at IS NULL) AS progress
    FROM content_index i JOIN courses c ON c.id = i.course_id AND c.deleted_at IS NULL
    WHERE i.content_id = :lesson AND i.item_type = 'lesson'
      AND i.status = 'active' AND i.deleted_at IS NULL
    """
)


async def lesson_state(
    connection: AsyncConnection, *, lesson_id: str, viewer_id: uuid.UUID | None
) -> LessonState | None:
    """One query (the neighbours by the ``(course_id, position)`` index); None when the
    lesson is in no current outline."""
    row = (await connection.execute(LESSON_STATE, {"lesson": lesson_id, "user": viewer_id})).first()
    if row is None:
        return None
    return LessonState(
        content_key=(int(row.version), row.content_hash),
        preview=bool(row.preview),
        course_status=row.status,
        paid=bool(row.paid),
        viewer_role=row.role,
        entitled=bool(row.entitled),
        module=row.module,
        previous=row.previous,
        next=row.next,
        progress=row.progress,
    )


SAVE_LESSON_PROGRESS = "SELECT * FROM save_lesson_progress($1, $2, $3, $4, $5, $6, $7, $8, $9)"
"""The lesson progress write, one statement (migration 0037), in the driver's own
placeholders: asyncpg prepares it once per connection, so a request costs one round
trip and no statement construction (bench/RESULTS.md)."""


@dataclass(frozen=True)
class SavedProgress:
    """What ``save_lesson_progress()`` answered: an ``outcome`` (``ok``, or why nothing
    was written) and, when ``ok``, the saved row and what the write caused."""

    outcome: str
    course_content_id: str | None
    row: dict[str, Any]


async def save_progress(
    connection: AsyncConnection | Driver,
    *,
    user_id: uuid.UUID,
    lesson_id: str,
    changes: dict[str, Any],
    heartbeat: tuple[uuid.UUID, int] | None,
    refused: bool,
    staff: Sequence[str],
) -> SavedProgress:
    """Check and write a learner's progress on a lesson in ONE statement, atomic by
    itself (so an autocommit connection needs no BEGIN/COMMIT): the user, the lesson's
    course and enrollment, the heartbeat, the upsert, completion, awards and the
    activity log. ``refused``: the body breaks a rule of its own, answered once the
    caller may write here at all."""
    session_id, seconds = heartbeat if heartbeat else (None, None)
    arguments = (
        user_id,
        lesson_id,
        json.dumps(changes),  # jsonb: the dialect's codec takes the JSON text
        uuid7(),  # the row's id, from the app: time-ordered within the process
        uuid7(),  # the first event's id
        session_id,
        seconds,
        refused,
        list(staff),
    )
    row: Mapping[Any, Any]
    if isinstance(connection, AsyncConnection):  # a unit of work's, or the declared route's
        result = await connection.exec_driver_sql(SAVE_LESSON_PROGRESS, arguments)
        row = result.mappings().one()
    else:  # the driver itself (db/sql.py pooled_driver): one round trip, nothing around it
        row = await connection.fetchrow(SAVE_LESSON_PROGRESS, *arguments)
    return SavedProgress(row["outcome"], row["course_content_id"], dict(row))


@dataclass(frozen=True)
class OutlineState:
    """Everything PostgreSQL knows for an outline request, fetched in one query."""

    course_id: uuid.UUID
    status: str
    content_version: tuple[int, str | None]
    """The course content's (version, content_hash) in the catalog: the outline cache's key."""
    viewer_role: str | None
    enrollment_status: str | None
    lessons: dict[str, dict[str, Any]]
    done: set[str]
    """Items done by ``progress``'s rule (lessons completed, quizzes passed)."""
    passed_quizzes: set[str]
    completed_required: int
    total_required: int
    percent_complete: float
    last_activity_at: datetime | None


OUTLINE_STATE = text(
    """
    WITH course AS (
      SELECT id, status, version, content_hash FROM courses
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
               'updated_at', p.updated_at)), '{}'::json) AS lessons
      FROM lesson_progress p JOIN course ON p.course_id = course.id
      WHERE p.user_id = :viewer AND p.deleted_at IS NULL
    ), done AS (
      SELECT coalesce(array_agg(d.item_id), '{}') AS items,
             coalesce(array_agg(d.item_id) FILTER (WHERE i.item_type = 'quiz'), '{}') AS quizzes
      FROM items_done d
      JOIN content_index i ON i.content_id = d.item_id AND i.status = 'active'
      JOIN course ON i.course_id = course.id
      WHERE d.user_id = :viewer
    ), rollup AS (
      SELECT c.completed_required, c.total_required, c.percent_complete
      FROM course_completion c JOIN course ON c.course_id = course.id
      WHERE c.user_id = :viewer
    )
    SELECT course.id AS course_id, course.status, course.version, course.content_hash,
           (SELECT role FROM viewer) AS viewer_role,
           (SELECT status FROM enrollment) AS enrollment_status,
           progress.lessons, done.items AS done, done.quizzes AS passed_quizzes,
           coalesce((SELECT completed_required FROM rollup), 0) AS completed_required,
           coalesce((SELECT total_required FROM rollup), 0) AS total_required,
           coalesce((SELECT percent_complete FROM rollup), 0) AS percent_complete,
           (SELECT a.last_activity_at FROM course_activity a
            WHERE a.user_id = :viewer AND a.course_id = course.id) AS last_activity_at
    FROM course, progress, done
    """
)


async def outline_state(
    connection: AsyncConnection, *, course_content_id: str, viewer_id: uuid.UUID | None
) -> OutlineState | None:
    # Core, not ORM: one plain row back, on a read-only connection (no session).
    row = (
        await connection.execute(OUTLINE_STATE, {"course": course_content_id, "viewer": viewer_id})
    ).first()
    if row is None:
        return None
    return OutlineState(
        course_id=row.course_id,
        status=row.status,
        content_version=(int(row.version), row.content_hash),
        viewer_role=row.viewer_role,
        enrollment_status=row.enrollment_status,
        lessons=dict(row.lessons or {}),
        done=set(row.done or []),
        passed_quizzes=set(row.passed_quizzes or []),
        completed_required=int(row.completed_required),
        total_required=int(row.total_required),
        percent_complete=float(row.percent_complete),
        last_activity_at=row.last_activity_at,
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


async def cancel_enrollment(
    session: AsyncSession, *, enrollment_id: uuid.UUID, user_id: uuid.UUID
) -> Enrollment | None:
    """Cancel the learner's enrollment if it is active, in ONE conditional UPDATE: of
    any number of parallel cancels exactly one finds it active (the others wait for its
    row lock, then see it cancelled). None when it is not theirs or not active."""
    result = await session.execute(
        update(Enrollment)
        .where(
            col(Enrollment.id) == enrollment_id,
            col(Enrollment.user_id) == user_id,
            col(Enrollment.status) == "active",
            col(Enrollment.deleted_at).is_(None),
        )
        .values(status="cancelled")
        .returning(Enrollment),
        execution_options={"synchronize_session": False, "populate_existing": True},
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


@dataclass(frozen=True)
class MyCourse:
    """One of my live enrollments with its rollup and where to resume."""

    course_id: str
    title: str
    enrollment_status: str
    completed_required: int
    total_required: int
    percent_complete: float
    last_activity_at: datetime | None
    started_lesson: str | None
    """The lesson I touched last and have not completed, if any."""
    started_position: dict[str, Any] | None
    next_item: str | None
    """The item after the last one done."""
    first_item: str | None
    time_spent_seconds: int

    @property
    def key(self) -> ActivityKey:
        return self.last_activity_at, self.course_id


async def my_courses(
    session: AsyncSession, *, user_id: uuid.UUID, after: ActivityKey | None, limit: int
) -> list[MyCourse]:
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
            ), rollup AS (
              SELECT cc.* FROM course_completion cc
              WHERE cc.user_id = :user AND cc.course_id IN (SELECT course_id FROM mine)
            ), started AS (
              SELECT DISTINCT ON (p.course_id) p.course_id, p.lesson_content_id, p.position
              FROM lesson_progress p JOIN content_index i
                ON i.content_id = p.lesson_content_id AND i.status = 'active'
              WHERE p.user_id = :user AND p.status = 'started' AND p.deleted_at IS NULL
              ORDER BY p.course_id, p.updated_at DESC
            ), activity AS (
              SELECT course_id, last_activity_at AS at FROM course_activity
              WHERE user_id = :user
            ), spent AS (
              SELECT course_id, sum(seconds) AS seconds FROM lesson_time
              WHERE user_id = :user AND deleted_at IS NULL GROUP BY course_id
            )
            SELECT mine.content_id AS course_id, mine.title, mine.status AS enrollment_status,
                   coalesce(rollup.completed_required, 0) AS completed_required,
                   coalesce(rollup.total_required, 0) AS total_required,
                   coalesce(rollup.percent_complete, 0) AS percent_complete,
                   activity.at AS last_activity_at, started.lesson_content_id AS started_lesson,
                   started.position AS started_position,
                   coalesce(spent.seconds, 0) AS time_spent_seconds,
                   (SELECT i.content_id FROM content_index i
                     WHERE i.course_id = mine.course_id AND i.status = 'active'
                       AND i.position > coalesce(rollup.last_done_position, -1)
                     ORDER BY i.position LIMIT 1) AS next_item,
                   (SELECT i.content_id FROM content_index i
                     WHERE i.course_id = mine.course_id AND i.status = 'active'
                     ORDER BY i.position LIMIT 1) AS first_item
            FROM mine
            LEFT JOIN rollup ON rollup.course_id = mine.course_id
            LEFT JOIN started ON started.course_id = mine.course_id
            LEFT JOIN activity ON activity.course_id = mine.course_id
            LEFT JOIN spent ON spent.course_id = mine.course_id
            {where}
            ORDER BY activity.at DESC NULLS LAST, mine.content_id
            LIMIT :limit
            """
        ),
        {"user": user_id, "limit": limit + 1, **params},
    )
    return [
        MyCourse(
            course_id=row.course_id,
            title=row.title,
            enrollment_status=row.enrollment_status,
            completed_required=int(row.completed_required),
            total_required=int(row.total_required),
            percent_complete=float(row.percent_complete),
            last_activity_at=row.last_activity_at,
            started_lesson=row.started_lesson,
            started_position=row.started_position,
            next_item=row.next_item,
            first_item=row.first_item,
            time_spent_seconds=int(row.time_spent_seconds),
        )
        for row in result
    ]


@dataclass(frozen=True)
class NoteRow:
    """A lesson I bookmarked or wrote a note on."""

    id: uuid.UUID
    lesson_id: str
    course_id: str
    title: str
    bookmarked: bool
    note: str | None
    updated_at: datetime | None


async def lesson_notes(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    bookmarked_only: bool,
    after: uuid.UUID | None,
    limit: int,
) -> list[NoteRow]:
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
    rows = (await session.execute(query)).all()
    return [
        NoteRow(
            id=row[0],
            lesson_id=row[1],
            course_id=row[2],
            title=row[3],
            bookmarked=row[4],
            note=row[5],
            updated_at=row[6],
        )
        for row in rows
    ]


async def reactivate_latest(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> Enrollment | None:
    """Make the learner's most recent cancelled enrollment in the course active again
    (a purchase after a refund), or None when there is none."""
    latest = (
        select(col(Enrollment.id))
        .where(
            col(Enrollment.user_id) == user_id,
            col(Enrollment.course_id) == course_id,
            col(Enrollment.status) == "cancelled",
            col(Enrollment.deleted_at).is_(None),
        )
        .order_by(col(Enrollment.enrolled_at).desc(), col(Enrollment.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    result = await session.execute(
        update(Enrollment)
        .where(col(Enrollment.id) == latest)
        .values(status="active")
        .returning(Enrollment),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    return result.scalar_one_or_none()


async def cancel_active(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> Enrollment | None:
    """Cancel the learner's active enrollment in the course (a full refund), if any."""
    result = await session.execute(
        update(Enrollment)
        .where(
            col(Enrollment.user_id) == user_id,
            col(Enrollment.course_id) == course_id,
            col(Enrollment.status) == "active",
            col(Enrollment.deleted_at).is_(None),
        )
        .values(status="cancelled")
        .returning(Enrollment),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    return result.scalar_one_or_none()


async def complete_practice(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID, practice_id: str
) -> tuple[PracticeProgress, bool]:
    """Mark the practice done once (ON CONFLICT DO NOTHING, so racing requests record
    one completion); returns the row and whether this statement created it."""
    inserted = (
        await session.execute(
            insert(PracticeProgress)
            .values(user_id=user_id, course_id=course_id, practice_content_id=practice_id)
            .on_conflict_do_nothing(index_elements=["user_id", "practice_content_id"])
            .returning(col(PracticeProgress.id))
        )
    ).scalar_one_or_none()
    row = (
        await session.execute(
            select(PracticeProgress).where(
                col(PracticeProgress.user_id) == user_id,
                col(PracticeProgress.practice_content_id) == practice_id,
            )
        )
    ).scalar_one()
    return row, inserted is not None
