"""The test folder with its competency framework and exams, loaded; a student enrolled
in the free course."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.competencies.helpers import FREE, load, name_competencies
from tests.exams.conftest import write_exams
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll


@pytest.fixture
async def content(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    write_exams(folder)
    name_competencies(folder)
    await load(folder, mongo, catalog_sessions)
    return folder


@pytest.fixture
async def student(client: httpx.AsyncClient, content: Path) -> Account:
    account = await sign_up(client)
    await enroll(client, account, FREE)
    return account
