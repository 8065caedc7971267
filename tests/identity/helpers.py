"""Signing people up and in through the real API."""

from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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
