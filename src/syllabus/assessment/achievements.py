"""Achievements: definitions come from content (achievements.json, synced to PostgreSQL
with a JSONB rule); awards are decided in SQL, in the transaction of the event that earns
them, and inserted with ON CONFLICT DO NOTHING, so each is awarded exactly once even
when events race."""

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.analytics.activity import Event, record_events
from syllabus.learning import repository as learning

AWARD = text(
    """
    WITH facts AS (
      SELECT
        (SELECT count(*) FROM lesson_progress
          WHERE user_id = :user AND status = 'completed' AND deleted_at IS NULL) AS lessons,
        (SELECT coalesce(array_agg(c.content_id), '{}') FROM enrollments e
          JOIN courses c ON c.id = e.course_id
          WHERE e.user_id = :user AND e.status = 'completed' AND e.deleted_at IS NULL) AS courses
    )
    INSERT INTO user_achievements (user_id, achievement_id, context, created_by, updated_by)
    SELECT :user, a.id, jsonb_build_object('rule', a.rule), :user, :user
    FROM achievements a, facts
    WHERE a.deleted_at IS NULL AND (
      (a.rule->>'type' = 'lessons_completed' AND facts.lessons >= (a.rule->>'count')::int)
      OR (a.rule->>'type' = 'quiz_perfect_score' AND :perfect)
      OR (a.rule->>'type' = 'streak_days' AND :streak >= (a.rule->>'days')::int)
      OR (a.rule->>'type' = 'course_completed' AND cardinality(facts.courses) > 0
          AND (a.rule->>'course' IS NULL OR a.rule->>'course' = ANY(facts.courses)))
    )
    ON CONFLICT (user_id, achievement_id) DO NOTHING
    RETURNING (SELECT code FROM achievements WHERE id = achievement_id)
    """
)


async def award(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    perfect_quiz: bool = False,
    along: Sequence[Event] = (),
) -> list[str]:
    """Award whatever the learner has now earned; returns the codes newly awarded.

    ``along`` are the rewarded write's own events, not yet recorded: they are recorded
    after the streak is counted (so they do not count towards it), ahead of the
    ``earned`` events and in the same INSERT."""
    current_streak = (await learning.stats(session, user_id=user_id))[0]
    rows = await session.execute(
        AWARD, {"user": user_id, "perfect": perfect_quiz, "streak": current_streak}
    )
    codes = [row[0] for row in rows]
    earned = [Event(verb="earned", object_type="achievement", object_id=code) for code in codes]
    await record_events(session, actor_id=user_id, events=[*along, *earned])
    return codes
