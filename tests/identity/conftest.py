import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account, sign_up


@pytest.fixture
async def learner(client: httpx.AsyncClient) -> Account:
    return await sign_up(client)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await session.execute(
        text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": account.id}
    )
    return account
