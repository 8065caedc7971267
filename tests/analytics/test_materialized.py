"""The materialized twins of the slow views: equal to the live views after a refresh (on
the hand-checked dataset), refreshable again and again, never blocking readers, readable
by the analysts' role; and ``syllabus analytics refresh``."""

import asyncio
import subprocess
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from syllabus.analytics.refresh import RefreshError, materialized, refresh
from syllabus.config import Settings, to_libpq_url
from syllabus.db import migrate
from tests.analytics.conftest import syllabus
from tests.analytics.test_export import raw
from tests.identity.helpers import Account

TWINS = {"question_items_mat": "question_items", "streak_distribution_mat": "streak_distribution"}
FRESHNESS = "refreshed_at"


async def contents(driver: asyncpg.Connection, view: str) -> list[tuple[Any, ...]]:
    """The live view's columns of ``view``, as sorted tuples (the freshness stamp aside)."""
    records = await driver.fetch(f"SELECT * FROM analytics.{view}")
    return sorted(tuple(v for k, v in record.items() if k != FRESHNESS) for record in records)


async def test_the_twins_are_the_ones_materialized(connection: AsyncConnection) -> None:
    assert set(await materialized(await raw(connection))) == set(TWINS)


async def test_after_a_refresh_each_twin_equals_its_live_view(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    driver = await raw(connection)
    done = await refresh(driver)
    assert sorted(r.name for r in done) == sorted(TWINS)
    assert all(r.seconds >= 0 for r in done)
    for twin, live in TWINS.items():
        assert await contents(driver, twin) == await contents(driver, live)
        stamps = await driver.fetch(f"SELECT DISTINCT {FRESHNESS} FROM analytics.{twin}")
        assert [s[FRESHNESS] for s in stamps] == [await driver.fetchval("SELECT now()")]
    # the hand-computed figures of test_views, read from the twins
    assert await contents(driver, "streak_distribution_mat") == [(1, 2)]
    items = await driver.fetch(
        "SELECT question_id, answers, difficulty, discrimination "
        "FROM analytics.question_items_mat WHERE quiz_id = 'quiz:rest-basics-check' "
        "ORDER BY question_id"
    )
    assert [tuple(r.values()) for r in items] == [  # Decimal('0.5000') == 0.5
        ("question:bank-safe-method", 2, 1.0, None),
        ("question:legacy-1", 2, 0.5, 1.0),
        ("question:rest-basics-nouns", 2, 0.5, 1.0),
    ]


async def test_refreshing_again_changes_nothing_and_names_are_checked(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    driver = await raw(connection)
    await refresh(driver, names=["question_items_mat"])
    before = await contents(driver, "question_items_mat")
    again = await refresh(driver, names=["question_items_mat", "question_items_mat"])
    assert [r.name for r in again] == ["question_items_mat"]
    assert await contents(driver, "question_items_mat") == before
    for name in ("question_items", "users", 'x"; DROP TABLE users; --'):
        with pytest.raises(RefreshError, match="not a materialized view of analytics"):
            await refresh(driver, names=[name])


async def test_a_refresh_and_readers_do_not_wait_for_each_other(
    engine: AsyncEngine, settings: Settings
) -> None:
    """CONCURRENTLY takes an EXCLUSIVE lock, which a reader's ACCESS SHARE does not
    conflict with: a reader holding the twin does not hold up the refresh, and a
    refresh in progress does not hold up a reader (a lock wait would hit lock_timeout)."""
    assert settings.postgres_owner_url is not None
    url = to_libpq_url(settings.postgres_owner_url)
    reader, refresher = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        for conn in (reader, refresher):
            await conn.execute("SET lock_timeout = '2s'")
        async with reader.transaction():
            await reader.fetch("SELECT * FROM analytics.question_items_mat")
            await refresh(refresher)
        async with refresher.transaction():
            await refresh(refresher)
            for twin in TWINS:
                await reader.fetch(f"SELECT * FROM analytics.{twin}")
        # the contrast: a plain refresh would have made the reader wait
        async with reader.transaction():
            await reader.fetch("SELECT * FROM analytics.question_items_mat")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await refresher.execute("REFRESH MATERIALIZED VIEW analytics.question_items_mat")
    finally:
        await reader.close()
        await refresher.close()


async def test_the_analysts_role_reads_the_twins_and_cannot_refresh_them(
    analyst: asyncpg.Connection,
) -> None:
    for twin in TWINS:
        await analyst.fetch(f"SELECT * FROM analytics.{twin}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst.execute(f"REFRESH MATERIALIZED VIEW analytics.{twin}")
    readable = await analyst.fetch(
        "SELECT n.nspname, c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND has_table_privilege(c.oid, 'SELECT')"
    )
    assert {r["nspname"] for r in readable} == {"analytics"}
    columns = await analyst.fetch(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'analytics' AND c.relkind = 'm' AND a.attnum > 0"
    )
    assert not {c["attname"] for c in columns} & {"email", "name", "password_hash", "note"}


def cli(*arguments: str, database: str) -> subprocess.CompletedProcess[str]:
    return syllabus("analytics", "refresh", *arguments, database=database)


async def test_the_cli_refreshes_and_reports_each_view(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    done = await asyncio.to_thread(cli, database=scratch_database)
    assert done.returncode == 0, done.stderr
    reported = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert reported == [f"analytics.{twin}" for twin in sorted(TWINS)]
    assert all(" s" in line and "refreshed in" in line for line in done.stdout.splitlines())
    one = await asyncio.to_thread(cli, "streak_distribution_mat", database=scratch_database)
    assert one.stdout.startswith("analytics.streak_distribution_mat: refreshed in")
    bad = await asyncio.to_thread(cli, "streak_distribution", database=scratch_database)
    assert bad.returncode == 2
    assert "not a materialized view of analytics: streak_distribution" in bad.stderr
