"""The sandbox provider: its page opens only with the signed link, posts under a policy
of its own, and settles through the same webhook machinery (signed notifications)."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from syllabus.commerce.providers.sandbox import SandboxProvider
from tests.commerce.helpers import bought, can_read_paid_lesson, count, payment_row
from tests.conftest import PUBLIC_BASE_URL
from tests.identity.helpers import Account


def page_of(payment: dict[str, object]) -> tuple[str, str]:
    url = urlsplit(str(payment["confirmation_url"]))
    assert f"{url.scheme}://{url.netloc}{url.path}".startswith(
        f"{PUBLIC_BASE_URL}/api/v1/sandbox/payments/"
    )  # absolute, from the public base URL (DECISIONS 7)
    return url.path.removeprefix(urlsplit(PUBLIC_BASE_URL).path), parse_qs(url.query)["token"][0]


async def test_pay_on_the_sandbox_page(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="sandbox")
    path, token = page_of(payment)
    assert (await client.get(path)).status_code == 404  # an id alone opens nothing
    forged = token[:-1] + ("1" if token.endswith("0") else "0")  # always a different token
    assert (await client.get(path, params={"token": forged})).status_code == 404
    shown = await client.get(path, params={"token": token})
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("text/html")
    policy = shown.headers.get_list("content-security-policy")
    assert len(policy) == 1
    assert "form-action 'self'" in policy[0]
    assert "script-src" not in policy[0]
    assert '<button name="action" value="pay">Pay</button>' in shown.text

    paid = await client.post(path, data={"token": token, "action": "pay"})
    assert paid.status_code == 200
    assert "succeeded" in paid.text
    assert await can_read_paid_lesson(client, learner)
    # Pressing again (or a replay) changes nothing.
    again = await client.post(path, data={"token": token, "action": "decline"})
    assert again.status_code == 200
    assert (await payment_row(session, payment["payment_id"]))["status"] == "succeeded"
    assert await count(session, "FROM payment_events") == 1


async def test_decline_and_forged_notifications(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="sandbox")
    path, token = page_of(payment)
    assert (await client.post(path, data={"token": "x", "action": "pay"})).status_code == 404
    assert (await client.post(path, data={"token": token, "action": "steal"})).status_code == 422
    forged = SandboxProvider(secret=b"another data dir", page_base="http://x").buyer_decided(
        payment_id=payment["payment_id"], action="pay", amount_minor=1900, currency="USD"
    )
    response = await client.post(
        "/api/v1/webhooks/sandbox", content=forged.body, headers=forged.headers
    )
    assert (response.status_code, response.json()["code"]) == (400, "notification-refused")
    assert await count(session, "FROM payment_events") == 0

    declined = await client.post(path, data={"token": token, "action": "decline"})
    assert declined.status_code == 200
    assert (await payment_row(session, payment["payment_id"]))["status"] == "canceled"
    assert not await can_read_paid_lesson(client, learner)


async def test_a_sandbox_refund_settles_at_once(
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
    refunded = await client.post(
        f"/api/v1/admin/payments/{payment['payment_id']}/refund", json={}, headers=admin.headers
    )
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refunded_minor"]) == ("refunded", 1900)
    assert not await can_read_paid_lesson(client, learner)
    assert (await client.post("/api/v1/webhooks/paypal", content=b"{}")).status_code == 422
