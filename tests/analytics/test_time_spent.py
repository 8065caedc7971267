"""Analysts read time spent in SQL alone, through their read-only role
(``analytics.learner_lesson_time``: learners by id, lessons and courses by content id)."""

import uuid

import asyncpg
import httpx

from tests.identity.helpers import Account
from tests.learning.helpers import progress

INTRO = "lesson:rest-basics-intro"


async def test_the_analysts_role_reads_time_spent_per_learner_and_lesson(
    live_client: httpx.AsyncClient, live_learner: Account, analyst: asyncpg.Connection
) -> None:
    sessions = [uuid.uuid4(), uuid.uuid4()]
    for session_id, seconds in ((sessions[0], 40), (sessions[0], 70), (sessions[1], 30)):
        response = await progress(
            live_client,
            live_learner,
            INTRO,
            time_spent={"session_id": str(session_id), "seconds": seconds},
        )
        assert response.status_code == 200, response.text
    rows = await analyst.fetch(
        "SELECT user_id, course_id, lesson_id, seconds, sessions FROM analytics.learner_lesson_time"
    )
    assert [tuple(row) for row in rows] == [
        (uuid.UUID(str(live_learner.id)), "course:rest-basics", INTRO, 100, 2)
    ]
    with_titles = await analyst.fetchval(
        "SELECT sum(t.seconds) FROM analytics.learner_lesson_time t "
        "JOIN analytics.courses c USING (course_id) WHERE c.title IS NOT NULL"
    )
    assert with_titles == 100
