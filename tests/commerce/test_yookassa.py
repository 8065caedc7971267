"""Buying through YooKassa (the SDK against the local double): notifications are taken
only from YooKassa's addresses, and never believed: the payment or refund is fetched
again from the API before anything changes."""

import json
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.commerce.doubles import YooKassaDouble
from tests.commerce.helpers import bought, can_read_paid_lesson, checkout, count, payment_row
from tests.identity.helpers import Account

WEBHOOK = "/api/v1/webhooks/yookassa"


def yookassa_id(double: YooKassaDouble, payment: dict[str, object]) -> str:
    url = str(payment["confirmation_url"])
    assert url.startswith("https://yoomoney.ru/checkout/payments/v2/contract?orderId=")
    return url.rsplit("=", 1)[1]


async def test_a_yookassa_purchase_is_settled_from_the_api_not_the_notification(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="yookassa")
    created = yookassa_double.payments[yookassa_id(yookassa_double, payment)]
    assert created["amount"] == {"value": "19.00", "currency": "USD"}
    assert created["metadata"]["payment_id"] == payment["payment_id"]

    # A notification that claims success while the API says pending changes nothing.
    forged = yookassa_double.notification("payment.succeeded", {**created, "status": "succeeded"})
    response = await yookassa_client.post(WEBHOOK, content=forged)
    assert response.status_code == 200
    assert (await payment_row(session, payment["payment_id"]))["status"] == "pending"
    assert not await can_read_paid_lesson(client, learner)

    body = yookassa_double.settle(created["id"], "succeeded")
    assert (await yookassa_client.post(WEBHOOK, content=body)).status_code == 200
    assert (await payment_row(session, payment["payment_id"]))["status"] == "succeeded"
    assert await can_read_paid_lesson(client, learner)
    fetched = [r for r in yookassa_double.requests if r.method == "GET"]
    assert [r.path for r in fetched] == [f"/v3/payments/{created['id']}"] * 2


async def test_a_notification_from_another_address_is_refused_and_not_recorded(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="yookassa")
    body = yookassa_double.settle(yookassa_id(yookassa_double, payment), "succeeded")
    response = await client.post(WEBHOOK, content=body)  # from 127.0.0.1
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "notification-refused"
    assert await count(session, "FROM payment_events") == 0
    assert (await payment_row(session, payment["payment_id"]))["status"] == "pending"


async def test_garbage_from_yookassas_address_is_refused(
    yookassa_client: httpx.AsyncClient, session: AsyncSession, loaded: Path
) -> None:
    for body in (b"not json", json.dumps({"event": "payment.succeeded"}).encode()):
        response = await yookassa_client.post(WEBHOOK, content=body)
        assert response.status_code == 400, body
    assert await count(session, "FROM payment_events") == 0


async def test_a_cancelled_yookassa_payment_and_an_admin_refund(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    first = await bought(client, learner, provider="yookassa")
    body = yookassa_double.settle(yookassa_id(yookassa_double, first), "canceled")
    assert (await yookassa_client.post(WEBHOOK, content=body)).status_code == 200
    assert (await payment_row(session, first["payment_id"]))["status"] == "canceled"

    second = await bought(client, learner, provider="yookassa")
    assert second["payment_id"] != first["payment_id"]
    provider_id = yookassa_id(yookassa_double, second)
    body = yookassa_double.settle(provider_id, "succeeded")
    assert (await yookassa_client.post(WEBHOOK, content=body)).status_code == 200
    assert await can_read_paid_lesson(client, learner)

    refunded = await client.post(
        f"/api/v1/admin/payments/{second['payment_id']}/refund", json={}, headers=admin.headers
    )
    assert refunded.status_code == 200, refunded.text
    [refund] = yookassa_double.refunds.values()
    assert refund["payment_id"] == provider_id
    notice = yookassa_double.notification("refund.succeeded", refund)
    assert (await yookassa_client.post(WEBHOOK, content=notice)).status_code == 200
    row = await payment_row(session, second["payment_id"])
    assert (row["status"], row["refunded_minor"]) == ("refunded", 1900)
    assert not await can_read_paid_lesson(client, learner)


async def test_a_slow_yookassa_is_a_503_and_leaves_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    yookassa_double.delay = 3  # the provider's timeout is 1 s
    response = await checkout(client, learner, provider="yookassa")
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "provider-unavailable"
    assert await count(session, "FROM payments") == 0
