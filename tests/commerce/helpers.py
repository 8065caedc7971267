"""Shortcuts for commerce tests: checkouts and what the database holds afterwards."""

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account

PAID = "course:paid-course"
FREE = "course:rest-basics"
PAID_LESSON = "/api/v1/lessons/lesson:paid-course-more"
RETURN_URL = "https://learn.example/syllabus/after-payment"


async def checkout(
    client: httpx.AsyncClient,
    account: Account,
    *,
    provider: str = "stripe",
    course: str | None = PAID,
    plan: str | None = None,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"provider": provider, "return_url": RETURN_URL, **extra}
    if plan is not None:
        body["plan_code"] = plan
    elif course is not None:
        body["course_id"] = course
    return await client.post("/api/v1/checkout", json=body, headers=account.headers)


async def bought(client: httpx.AsyncClient, account: Account, **options: Any) -> dict[str, Any]:
    response = await checkout(client, account, **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def count(session: AsyncSession, sql: str, **params: object) -> int:
    value: int = (await session.execute(text(f"SELECT count(*) {sql}"), params)).scalar_one()
    return value


async def payment_row(session: AsyncSession, payment_id: str) -> dict[str, Any]:
    row = (
        (await session.execute(text("SELECT * FROM payments WHERE id = :id"), {"id": payment_id}))
        .mappings()
        .one()
    )
    return dict(row)


async def can_read_paid_lesson(client: httpx.AsyncClient, account: Account) -> bool:
    status = (await client.get(PAID_LESSON, headers=account.headers)).status_code
    assert status in (200, 403), status
    return status == 200


async def make_admin_plan(
    client: httpx.AsyncClient, admin: Account, *, code: str = "monthly", **fields: Any
) -> dict[str, Any]:
    body = {
        "code": code,
        "title": "Everything",
        "price_minor": 900,
        "currency": "USD",
        "period": "month",
        **fields,
    }
    response = await client.post("/api/v1/admin/plans", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
