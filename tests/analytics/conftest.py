import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from syllabus.analytics.role import grant_read_only
from syllabus.config import Settings, to_asyncpg_url, to_libpq_url
from tests.assessment.test_attempts import RIGHT, start, submit
from tests.conftest import with_database
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress
from tests.stores import ServerUrls

FREE = "course:rest-basics"


@pytest.fixture(autouse=True)
async def owner_rights(connection: AsyncConnection) -> None:
    """The analytics views are the owner's (and the analysts' through their grant), not
    the app's: these tests read and refresh them in the test's transaction as the owner.
    What the analysts' role may do is tested signed in as one (``analyst``)."""
    await connection.execute(text("RESET ROLE"))


@pytest.fixture
async def dataset(client: httpx.AsyncClient, loaded: Path) -> list[Account]:
    """Three learners in the free course: one completes it (passing the quiz), one starts
    a lesson and fails the quiz, one only enrolls."""
    learners = [await sign_up(client) for _ in range(3)]
    for learner in learners:
        await enroll(client, learner, FREE)
    done_, halfway_, _ = learners
    await progress(client, done_, "lesson:rest-basics-intro", status="completed")
    await progress(client, done_, "lesson:rest-basics-more", status="completed")
    attempt = (await start(client, done_)).json()["id"]
    assert (await submit(client, done_, attempt, RIGHT, "key-analytics-1")).json()["passed"]
    await progress(client, halfway_, "lesson:rest-basics-intro", status="started")
    attempt = (await start(client, halfway_)).json()["id"]
    assert not (await submit(client, halfway_, attempt, RIGHT[:1], "key-analytics-2")).json()[
        "passed"
    ]
    return learners


@pytest.fixture
async def analyst(
    engine: AsyncEngine, settings: Settings, servers: ServerUrls
) -> AsyncIterator[asyncpg.Connection]:
    """A connection as a fresh role given ``syllabus analytics grant``'s rights (by the
    owner); the role is dropped afterwards (by the superuser: DROP OWNED BY needs the
    role's own rights)."""
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as connection:
        await grant_read_only(connection, role, password="analyst password")
    assert settings.postgres_owner_url is not None
    url = make_url(to_asyncpg_url(settings.postgres_owner_url)).set(
        username=role, password="analyst password"
    )
    reader = await asyncpg.connect(to_libpq_url(url.render_as_string(hide_password=False)))
    try:
        yield reader
    finally:
        await reader.close()
        superuser = await asyncpg.connect(with_database(servers.postgres, url.database or ""))
        try:
            await superuser.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
        finally:
            await superuser.close()


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "syllabus.cli", *arguments]


def environment(database: str) -> dict[str, str]:
    """The child's environment: ``database`` only."""
    return {
        "PATH": "/usr/bin:/bin",
        "SYLLABUS_POSTGRES_URL": database,
        # the code under test when it is put first on the path (a worktree, say)
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
    }


def syllabus(*arguments: str, database: str) -> subprocess.CompletedProcess[str]:
    """The ``syllabus`` command in a child process, on ``database`` only."""
    return subprocess.run(
        command(*arguments),
        env=environment(database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
