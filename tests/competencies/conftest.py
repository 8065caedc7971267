"""Fixtures of the competency tests: the framed folder loaded, a student, a teacher."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.competencies.helpers import FREE, load, name_competencies
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll


@pytest.fixture
async def framed(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    name_competencies(folder)
    await load(folder, mongo, catalog_sessions)
    return folder


@pytest.fixture
async def student(client: httpx.AsyncClient, framed: Path) -> Account:
    account = await sign_up(client)
    await enroll(client, account, FREE)
    return account


@pytest.fixture
async def teacher(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await set_role(session, account, "teacher")
    return account
