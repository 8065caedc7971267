"""A time zone is one PostgreSQL knows ([1/8] item 14): the API refuses the others, and a
stored one it does not know (from before, or lost to an older tzdata) breaks nobody's
streaks, stats, lesson completion, quiz submission or analytics: that learner's days
are read in UTC. The migration turns the stored unknown names into UTC."""

import asyncio
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.db import migrate
from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.assessment.test_attempts import RIGHT, start, submit
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"
BEFORE = "0013"
"""The revision before the one that fixes stored zones."""


async def unknown_to_postgres(session: AsyncSession) -> list[str]:
    """Zones Python knows and this PostgreSQL server does not (``localtime``, and zones
    newer than the server's tzdata, such as ``America/Coyhaique`` on PostgreSQL 16.2)."""
    known = set((await session.execute(text("SELECT name FROM pg_timezone_names"))).scalars())
    return sorted(zoneinfo.available_timezones() - known)


async def test_only_zones_postgresql_knows_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    unknown = await unknown_to_postgres(session)
    if not unknown:
        pytest.skip("this server's tzdata knows every zone Python knows")
    for zone in {unknown[0], "localtime"} & set(unknown):
        response = await client.patch(
            "/api/v1/users/me", headers=learner.headers, json={"time_zone": zone}
        )
        assert response.status_code == 422, zone
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert [error["field"] for error in response.json()["errors"]] == ["time_zone"]
    me = (await client.get("/api/v1/users/me", headers=learner.headers)).json()
    assert me["time_zone"] == "UTC"
    known = await client.patch(
        "/api/v1/users/me", headers=learner.headers, json={"time_zone": "America/Santiago"}
    )
    assert known.status_code == 200, known.text


async def store_zone(session: AsyncSession, account: Account, zone: str) -> None:
    """What the API stored before it asked PostgreSQL (or what a tzdata change leaves)."""
    await session.execute(
        text("UPDATE users SET time_zone = :z WHERE id = :u"), {"z": zone, "u": account.id}
    )


async def test_an_unknown_stored_zone_breaks_nobody(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    stranded = await sign_up(client)
    await store_zone(session, stranded, "localtime")
    await store_zone(session, learner, "Mars/Olympus_Mons")
    for account in (learner, stranded):
        await enroll(client, account, FREE)
        completed = await progress(client, account, "lesson:rest-basics-intro", status="completed")
        assert completed.status_code == 200, completed.text
        attempt = (await start(client, account)).json()["id"]
        submitted = await submit(client, account, attempt, RIGHT, f"tz-{account.id}")
        assert submitted.status_code == 200, submitted.text
        stats = await client.get("/api/v1/users/me/stats", headers=account.headers)
        assert stats.status_code == 200, stats.text
        assert stats.json()["current_streak_days"] == 1
    await session.execute(text("RESET ROLE"))  # the analytics schema is the owner's
    streaks = await session.execute(
        text("SELECT streak_days, learners FROM analytics.streak_distribution")
    )
    assert {row.streak_days: row.learners for row in streaks} == {1: 2}
    await session.execute(text("REFRESH MATERIALIZED VIEW analytics.streak_distribution_mat"))


async def test_the_days_of_an_unknown_stored_zone_are_utc_days(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    await store_zone(session, learner, "Nowhere/Special")
    # 23:00 UTC yesterday and 01:00 UTC today: two days in UTC, one in most other zones
    today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    await session.execute(
        text(
            "INSERT INTO activity_log (actor_id, verb, object_type, object_id, occurred_at) "
            "VALUES (:u, 'completed', 'lesson', 'lesson:x', :at)"
        ),
        [{"u": learner.id, "at": at} for at in (today - timedelta(hours=2), today)],
    )
    stats = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert (stats["longest_streak_days"], stats["time_zone"]) == (2, "Nowhere/Special")


async def test_the_migration_turns_unknown_stored_zones_into_utc(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database, revision=BEFORE)
    database = await asyncpg.connect(scratch_database)
    try:
        await database.executemany(
            "INSERT INTO users (email, name, time_zone) VALUES ($1, 'A', $2)",
            [
                ("a@example.org", "localtime"),
                ("b@example.org", "Nowhere/Special"),
                ("c@example.org", "Asia/Vladivostok"),
                ("d@example.org", "UTC"),
            ],
        )
        await asyncio.to_thread(migrate.upgrade, url=scratch_database)
        rows = await database.fetch("SELECT email, time_zone FROM users ORDER BY email")
        assert [tuple(row) for row in rows] == [
            ("a@example.org", "UTC"),
            ("b@example.org", "UTC"),
            ("c@example.org", "Asia/Vladivostok"),
            ("d@example.org", "UTC"),
        ]
    finally:
        await database.close()
