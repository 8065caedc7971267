"""Signing people up and in through the real API."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.config import Settings
from syllabus.deps import get_settings
from syllabus.identity.models import Role
from syllabus.kit.ids import uuid7

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "learner") -> str:
    return f"{prefix}-{uuid7().hex[-12:]}@example.org"


async def sign_up(
    client: httpx.AsyncClient, *, email: str | None = None, password: str = PASSWORD
) -> Account:
    email = email or unique_email()
    created = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": "Ada"}
    )
    assert created.status_code == 201, created.text
    tokens = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    return Account(
        id=created.json()["id"],
        email=created.json()["email"],
        password=password,
        access_token=tokens.json()["access_token"],
        refresh_token=tokens.json()["refresh_token"],
    )


async def set_role(session: AsyncSession, account: Account, role: Role) -> None:
    """Only an admin can change a role through the API; tests start from plain SQL."""
    await session.execute(
        text("UPDATE users SET role = :role WHERE id = :id"), {"role": role, "id": account.id}
    )


@contextmanager
def limits(app: FastAPI, **overrides: int) -> Iterator[Settings]:
    """The app's settings with some throttle limits changed, while this lasts (the
    suite lifts them, tests/conftest.py ``MANY_ACCOUNTS``; throttle tests set small ones)."""
    settings: Settings = app.state.settings.model_copy(update=overrides)

    async def overridden() -> Settings:
        return settings

    app.dependency_overrides[get_settings] = overridden
    try:
        yield settings
    finally:
        app.dependency_overrides.pop(get_settings, None)


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same app (and the same test transaction, if the test's
    ``client`` is serving it) calling from ``address``."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
