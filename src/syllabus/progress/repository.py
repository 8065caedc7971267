"""Progress queries. Each rule is a SQL object of the migrations (0009: ``quiz_passed()``,
``quiz_standings``, ``items_done``, ``course_completion``, ``learner_streaks``; 0014:
``safe_time_zone()``; 0017: ``course_activity``, the last-activity rule, which the
outline and my-courses queries of ``learning`` read too; 0037: ``complete_enrollments()``
and ``award_achievements()``, which the lesson progress write applies in the database);
these queries read them for one learner, so the API answers what the analytics views
answer."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.db.sql import current_actor
from syllabus.kit.ids import uuid7
from syllabus.progress.models import Achievement, UserAchievement

PASSED_QUIZZES = text(
    "SELECT quiz FROM unnest(CAST(:quizzes AS text[])) AS quiz WHERE quiz_passed(:user, quiz)"
)


async def passed_quizzes(
    session: AsyncSession, *, user_id: uuid.UUID, quiz_ids: Collection[str]
) -> set[str]:
    """Which of these quizzes the learner has passed, by ``quiz_passed()``: one query."""
    if not quiz_ids:
        return set()
    result = await session.execute(PASSED_QUIZZES, {"user": user_id, "quizzes": sorted(quiz_ids)})
    return set(result.scalars())


COMPLETE_COURSES = text("SELECT complete_enrollments(:user, :courses, :actor)")
"""The completion rule applied: ``complete_enrollments()`` (migration 0037), which the
progress write's ``save_lesson_progress()`` applies too."""


async def complete_courses(
    session: AsyncSession, *, user_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Complete the learner's active enrollments in these courses that now meet the
    completion rule, in ONE statement however many courses (the rule is checked and
    applied together, so a course is completed once even when writes race). Returns
    the courses this call completed."""
    if not course_ids:
        return set()
    result = await session.execute(
        COMPLETE_COURSES,
        # Plain SQL skips the audit hooks: the acting user is stamped here.
        {"user": user_id, "courses": course_ids, "actor": current_actor.get()},
    )
    return set(result.scalars())


@dataclass(frozen=True)
class CourseCompletion:
    """A learner's standing in one course, by the completion rule."""

    completed_required: int
    total_required: int
    percent_complete: float

    @classmethod
    def none(cls) -> "CourseCompletion":
        return cls(0, 0, 0.0)


ROLLUPS = text(
    """
    SELECT course_id, completed_required, total_required, percent_complete
    FROM course_completion WHERE user_id = :user AND course_id = ANY(:courses)
    """
)


async def course_rollups(
    session: AsyncSession, *, user_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CourseCompletion]:
    """The rollup of each of these courses the learner is (or was) enrolled in."""
    if not course_ids:
        return {}
    rows = await session.execute(ROLLUPS, {"user": user_id, "courses": course_ids})
    return {
        row.course_id: CourseCompletion(
            int(row.completed_required), int(row.total_required), float(row.percent_complete)
        )
        for row in rows
    }


@dataclass(frozen=True)
class StatsRow:
    current_streak_days: int
    longest_streak_days: int
    points: int
    completed_lessons: int
    completed_courses: int
    time_spent_seconds: int
    time_zone: str


STATS = text(
    """
    SELECT
      coalesce(s.current_streak_days, 0) AS current_streak_days,
      coalesce(s.longest_streak_days, 0) AS longest_streak_days,
      (SELECT coalesce(sum(i.points), 0) FROM items_done d
        JOIN content_index i ON i.content_id = d.item_id WHERE d.user_id = u.id) AS points,
      (SELECT count(*) FROM lesson_progress
        WHERE user_id = u.id AND status = 'completed' AND deleted_at IS NULL)
        AS completed_lessons,
      (SELECT count(*) FROM enrollments
        WHERE user_id = u.id AND status = 'completed' AND deleted_at IS NULL)
        AS completed_courses,
      (SELECT coalesce(sum(seconds), 0) FROM lesson_time
        WHERE user_id = u.id AND deleted_at IS NULL) AS time_spent_seconds,
      u.time_zone
    FROM users u LEFT JOIN learner_streaks s ON s.user_id = u.id
    WHERE u.id = :user
    """
)
"""Points: those of every item done (lessons completed, quizzes passed)."""


async def stats(session: AsyncSession, *, user_id: uuid.UUID) -> StatsRow:
    row = (await session.execute(STATS, {"user": user_id})).one()
    return StatsRow(
        current_streak_days=int(row.current_streak_days),
        longest_streak_days=int(row.longest_streak_days),
        points=int(row.points),
        completed_lessons=int(row.completed_lessons),
        completed_courses=int(row.completed_courses),
        time_spent_seconds=int(row.time_spent_seconds),
        time_zone=str(row.time_zone),
    )


AWARD = text("SELECT * FROM award_achievements(:user, :perfect)")
"""The award rules, one per ``rule.type`` of achievements.json (docs/authoring.md):
``award_achievements()`` (migration 0037), which ``save_lesson_progress()`` applies too."""


async def award(
    session: AsyncSession, *, user_id: uuid.UUID, perfect_quiz: bool
) -> list[Achievement]:
    """Insert every achievement the learner now meets and lacks; the achievements
    inserted, by code (one statement)."""
    statement = select(Achievement).from_statement(
        AWARD.columns(*Achievement.__table__.c)  # type: ignore[attr-defined]
    )
    result = await session.execute(statement, {"user": user_id, "perfect": perfect_quiz})
    return list(result.scalars())


async def upsert_achievements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update by code, reviving soft-deleted ones."""
    if not rows:
        return
    statement = insert(Achievement).values([{"id": uuid7(), **row} for row in rows])
    columns = [name for name in rows[0] if name != "code"]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["code"],
            set_={**{name: statement.excluded[name] for name in columns}, "deleted_at": None},
        )
    )


async def list_achievements(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[Achievement]:
    """By code, ``limit + 1`` of them."""
    query = select(Achievement).order_by(col(Achievement.code)).limit(limit + 1)
    if after is not None:
        query = query.where(col(Achievement.code) > after)
    return list((await session.execute(query)).scalars())


AwardKey = tuple[datetime, uuid.UUID]
"""Where a page of my achievements ends: when the last was awarded, and its id."""


@dataclass(frozen=True)
class Awarded:
    award: UserAchievement
    achievement: Achievement


async def my_achievements(
    session: AsyncSession, *, user_id: uuid.UUID, after: AwardKey | None, limit: int
) -> list[Awarded]:
    """In the order earned, ``limit + 1`` of them."""
    # An achievement a prune archived (soft-deleted) is still shown to those who earned it.
    query = (
        select(UserAchievement, Achievement)
        .join(Achievement, col(Achievement.id) == col(UserAchievement.achievement_id))
        .where(col(UserAchievement.user_id) == user_id, col(UserAchievement.deleted_at).is_(None))
        .order_by(col(UserAchievement.awarded_at), col(UserAchievement.id))
        .limit(limit + 1)
        .execution_options(include_deleted=True)
    )
    if after is not None:
        key = tuple_(col(UserAchievement.awarded_at), col(UserAchievement.id))
        query = query.where(key > tuple_(*after))
    return [Awarded(row[0], row[1]) for row in (await session.execute(query)).all()]


async def mark_seen(
    session: AsyncSession, *, user_id: uuid.UUID, achievement_id: uuid.UUID
) -> bool:
    """False when the learner does not have this achievement."""
    result = await session.execute(
        update(UserAchievement)
        .where(
            col(UserAchievement.user_id) == user_id,
            col(UserAchievement.achievement_id) == achievement_id,
        )
        .values(seen=True)
        .returning(col(UserAchievement.id))
    )
    return result.first() is not None
