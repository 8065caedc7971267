"""Progress rules as the other domains call them: complete what is now complete, award
what is now earned, and tell a learner their streaks, points and level. The rules
themselves are SQL (see repository.py); services never commit."""

import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.content.hooks import AchievementData
from syllabus.content.sources import OwnedTable
from syllabus.db.activity import Event, record_events
from syllabus.errors import NotFound
from syllabus.identity.models import User
from syllabus.progress import repository
from syllabus.progress.models import Achievement
from syllabus.progress.repository import AwardKey, CourseCompletion
from syllabus.progress.schemas import AchievementPublic, Stats, UserAchievementPublic

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


async def passed_quizzes(
    *, session: AsyncSession, user_id: uuid.UUID, quiz_ids: Collection[str]
) -> set[str]:
    """Which of these quizzes has the learner passed? The SQL rule ``quiz_passed()``
    answers, for all of them in one query."""
    return await repository.passed_quizzes(session, user_id=user_id, quiz_ids=quiz_ids)


async def course_rollups(
    *, session: AsyncSession, user_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CourseCompletion]:
    """The learner's rollup in each course, by the completion rule; a course they were
    never enrolled in is absent."""
    return await repository.course_rollups(session, user_id=user_id, course_ids=course_ids)


async def complete_if_done(
    *, session: AsyncSession, user_id: uuid.UUID, courses: Mapping[uuid.UUID, str]
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


async def award(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    perfect_quiz: bool = False,
    along: Sequence[Event] = (),
) -> list[AchievementPublic]:
    """Award whatever the learner has now earned, in the transaction of the event that
    earns it, exactly once even when events race (ON CONFLICT DO NOTHING); returns the
    achievements newly awarded.

    ``along`` are the rewarded write's own events, not yet recorded: they are recorded
    after the streak is counted (so they do not count towards it), ahead of the
    ``earned`` events and in the same INSERT."""
    awarded = await repository.award(session, user_id=user_id, perfect_quiz=perfect_quiz)
    earned = [Event(verb="earned", object_type="achievement", object_id=a.code) for a in awarded]
    await record_events(session, actor_id=user_id, events=[*along, *earned])
    return [AchievementPublic.model_validate(achievement) for achievement in awarded]


async def stats(*, session: AsyncSession, user: User) -> Stats:
    row = await repository.stats(session, user_id=user.id)
    level, next_level = level_for(row.points)
    return Stats(
        current_streak_days=row.current_streak_days,
        longest_streak_days=row.longest_streak_days,
        points=row.points,
        level=level,
        next_level_points=next_level,
        completed_lessons=row.completed_lessons,
        completed_courses=row.completed_courses,
        time_spent_seconds=row.time_spent_seconds,
        time_zone=row.time_zone,
    )


async def apply_achievements(
    session: AsyncSession, source: str | None, achievements: list[AchievementData]
) -> None:
    """The content loader's achievements, stored in its catalog transaction (registered
    on :data:`syllabus.content.hooks.achievements_loaded` by ``main.wire``), each
    recording the content source that loaded it."""
    await repository.upsert_achievements(
        session,
        [
            {
                "code": a.code,
                "title": a.title,
                "description": a.description,
                "rarity": a.rarity,
                "rule": a.rule,
                "source_id": source,
            }
            for a in achievements
        ],
    )


ACHIEVEMENTS = OwnedTable("achievement", Achievement, "code")
"""Achievements take part in content ownership (registered by ``main.wire``): a prune
archives (soft-deletes) the ones their source no longer defines. An archived
achievement is no longer awarded; learners who earned it keep it."""


async def achievements(
    *, session: AsyncSession, after: str | None, limit: int
) -> list[AchievementPublic]:
    rows = await repository.list_achievements(session, after=after, limit=limit)
    return [AchievementPublic.model_validate(row) for row in rows]


async def my_achievements(
    *, session: AsyncSession, user: User, after: AwardKey | None, limit: int
) -> list[tuple[AwardKey, UserAchievementPublic]]:
    """Mine in the order earned, each with its page key; ``limit + 1``."""
    rows = await repository.my_achievements(session, user_id=user.id, after=after, limit=limit)
    result = []
    for row in rows:
        awarded_at: datetime | None = row.award.awarded_at
        assert awarded_at is not None
        public = UserAchievementPublic(
            achievement=AchievementPublic.model_validate(row.achievement),
            awarded_at=awarded_at,
            seen=row.award.seen,
        )
        result.append(((awarded_at, row.award.id), public))
    return result


async def mark_seen(*, session: AsyncSession, user: User, achievement_id: uuid.UUID) -> None:
    if not await repository.mark_seen(session, user_id=user.id, achievement_id=achievement_id):
        raise NotFound("you do not have this achievement", field="achievement_id")
