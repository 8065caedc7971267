"""My stats: points, level and streaks, streaks counted in my own time zone."""

from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.progress.service import level_for
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, pass_quiz, progress

FREE = "course:rest-basics"


@pytest.mark.parametrize(
    ("points", "level", "next_at"),
    [(0, 1, 50), (49, 1, 50), (50, 2, 200), (199, 2, 200), (200, 3, 450), (450, 4, 800)],
)
def test_level_formula(points: int, level: int, next_at: int) -> None:
    assert level_for(points) == (level, next_at)


async def test_stats_count_points_lessons_and_courses(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    await pass_quiz(session, learner, "quiz:rest-basics-check", FREE)
    await progress(client, learner, "lesson:rest-basics-intro", status="completed")
    final = await progress(client, learner, "lesson:rest-basics-more", status="completed")
    assert final.json()["course_completed"] is True
    stats = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert stats == {
        "current_streak_days": 1,
        "longest_streak_days": 1,
        "points": 10 + 10 + 50,  # two lessons, the quiz's override
        "level": 2,
        "next_level_points": 200,
        "completed_lessons": 2,
        "completed_courses": 1,
        "time_spent_seconds": 0,  # no heartbeat sent (tests/learning/test_time_spent.py)
        "time_zone": "UTC",
    }


async def add_activity_at(session: AsyncSession, account: Account, utc: str) -> None:
    await session.execute(
        text(
            "INSERT INTO activity_log (actor_id, verb, object_type, object_id, occurred_at) "
            "VALUES (:u, 'completed', 'lesson', 'lesson:x', :at)"
        ),
        {"u": account.id, "at": datetime.fromisoformat(utc)},
    )


async def add_activity_days_ago(session: AsyncSession, account: Account, *days_ago: int) -> None:
    """Local noon, ``days_ago`` days before today in the account's own time zone."""
    for days in days_ago:
        await session.execute(
            text(
                "INSERT INTO activity_log (actor_id, verb, object_type, object_id, occurred_at) "
                "SELECT u.id, 'completed', 'lesson', 'lesson:x', "
                "((statement_timestamp() AT TIME ZONE u.time_zone)::date - CAST(:d AS integer) "
                "+ time '12:00') "
                "AT TIME ZONE u.time_zone FROM users u WHERE u.id = :u"
            ),
            {"u": account.id, "d": days},
        )


async def set_zone(client: httpx.AsyncClient, account: Account, zone: str) -> None:
    response = await client.patch(
        "/api/v1/users/me", json={"time_zone": zone}, headers=account.headers
    )
    assert response.status_code == 200


async def test_the_same_moments_make_different_streaks_in_different_time_zones(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    east = learner
    west = await sign_up(client)
    await set_zone(client, east, "Asia/Vladivostok")  # UTC+10
    await set_zone(client, west, "America/Los_Angeles")  # UTC-8 in March
    for account in (east, west):
        # 20:00 UTC on 1 March and 12:00 UTC on 2 March 2026:
        # Vladivostok: 06:00 and 22:00 on 2 March -> one day.
        # Los Angeles: 12:00 on 1 March and 04:00 on 2 March -> two days in a row.
        await add_activity_at(session, account, "2026-03-01T20:00:00Z")
        await add_activity_at(session, account, "2026-03-02T12:00:00Z")
    east_stats = (await client.get("/api/v1/users/me/stats", headers=east.headers)).json()
    west_stats = (await client.get("/api/v1/users/me/stats", headers=west.headers)).json()
    assert east_stats["longest_streak_days"] == 1
    assert west_stats["longest_streak_days"] == 2
    assert east_stats["current_streak_days"] == west_stats["current_streak_days"] == 0


@pytest.mark.parametrize("zone", ["Asia/Vladivostok", "America/Los_Angeles", "UTC"])
async def test_current_and_longest_streaks_in_my_time_zone(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account, zone: str
) -> None:
    await set_zone(client, learner, zone)
    await add_activity_days_ago(session, learner, 9, 8, 7, 6, 3, 1, 0)
    stats = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert (stats["current_streak_days"], stats["longest_streak_days"]) == (2, 4)
    await add_activity_days_ago(session, learner, 2)
    stats = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert (stats["current_streak_days"], stats["longest_streak_days"]) == (4, 4)


async def test_a_streak_ending_yesterday_is_still_current(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    await add_activity_days_ago(session, learner, 3, 2, 1)
    stats = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert stats["current_streak_days"] == 3
    lapsed = await sign_up(client)  # the activity log is append-only: another learner
    await add_activity_days_ago(session, lapsed, 4, 3, 2)
    stats = (await client.get("/api/v1/users/me/stats", headers=lapsed.headers)).json()
    assert (stats["current_streak_days"], stats["longest_streak_days"]) == (0, 3)
