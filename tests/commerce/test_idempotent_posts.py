"""Idempotency-Key on the commerce POSTs besides checkout (tested in test_stripe): a
retried refund, grant, plan or cancellation is answered as the first was, and done once."""

from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from tests.commerce.helpers import PAID, bought, count
from tests.commerce.test_sandbox import page_of
from tests.identity.helpers import Account, sign_up


async def twice(
    client: httpx.AsyncClient, url: str, account: Account, key: str, body: object = None
) -> tuple[httpx.Response, httpx.Response]:
    headers = {"Idempotency-Key": key, **account.headers}
    first = await client.post(url, json=body, headers=headers)
    return first, await client.post(url, json=body, headers=headers)


async def test_retried_commerce_posts_are_done_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="sandbox")
    path, token = page_of(payment)
    await client.post(path, data={"token": token, "action": "pay"})
    url = f"/api/v1/admin/payments/{payment['payment_id']}/refund"
    first, again = await twice(client, url, admin, "refund-key-0001", {"amount_minor": 500})
    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert again.json() == first.json()
    assert first.json()["refunded_minor"] == 500  # not 1000
    assert await count(session, "FROM payment_events WHERE type = 'refund.succeeded'") == 1

    other = await sign_up(client)
    body = {"user_id": other.id, "course_id": PAID}
    first, again = await twice(client, "/api/v1/admin/entitlements", admin, "grant-key-0001", body)
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert again.json() == first.json()
    assert await count(session, "FROM entitlements WHERE user_id = :u", u=other.id) == 1

    plan = {
        "code": "weekly",
        "title": "W",
        "price_minor": 300,
        "currency": "USD",
        "period": "month",
    }
    first, again = await twice(client, "/api/v1/admin/plans", admin, "plan-key-0001", plan)
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert again.json() == first.json()
    without_key = await client.post("/api/v1/admin/plans", json=plan, headers=admin.headers)
    assert without_key.status_code == 409  # the plan exists: the key answered, not redid

    subscription = await bought(client, other, provider="sandbox", course=None, plan="weekly")
    path, token = page_of(subscription)
    await client.post(path, data={"token": token, "action": "pay"})
    [mine] = (await client.get("/api/v1/users/me/subscriptions", headers=other.headers)).json()[
        "items"
    ]
    cancel = f"/api/v1/users/me/subscriptions/{mine['id']}/cancel"
    first, again = await twice(client, cancel, other, "cancel-key-0001")
    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert again.json() == first.json()
    assert first.json()["cancel_at_period_end"] is True
