"""Buying a course through Stripe (the SDK against the local double): checkout, signed
webhooks, duplicates, out-of-order events, a crash before processing, a changed price
and a reported amount that differs, refunds, and parallel checkouts."""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.learning import service as learning
from tests.commerce.doubles import Signed, StripeDouble
from tests.commerce.helpers import (
    FREE,
    PAID,
    bought,
    can_read_paid_lesson,
    checkout,
    count,
    payment_row,
)
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import activity

WEBHOOK = "/api/v1/webhooks/stripe"


def session_of(double: StripeDouble, payment: dict[str, Any]) -> str:
    url = str(payment["confirmation_url"])
    assert url.startswith("https://checkout.stripe.com/c/pay/")
    return url.rsplit("/", 1)[1]


async def crashed_purchase(
    client: httpx.AsyncClient,
    learner: Account,
    stripe_double: StripeDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], Signed, httpx.Response]:
    """Buy the paid course and deliver its payment while processing dies after storing it:
    the checkout, the completed event and the webhook's answer."""
    payment = await bought(client, learner)
    completed, _ = stripe_double.pay(session_of(stripe_double, payment))

    async def crash(**_: object) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patched:
        patched.setattr(learning, "enroll_purchased", crash)
        failed = await client.post(WEBHOOK, content=completed.body, headers=completed.headers)
    assert failed.status_code == 503
    return payment, completed, failed


async def deliver(client: httpx.AsyncClient, *events: Signed) -> None:
    for event in events:
        response = await client.post(WEBHOOK, content=event.body, headers=event.headers)
        assert response.status_code == 200, response.text


async def test_a_purchase_opens_the_course_and_enrolls(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    assert (payment["provider"], payment["status"]) == ("stripe", "pending")
    created = stripe_double.sessions[session_of(stripe_double, payment)]
    assert created["client_reference_id"] == payment["payment_id"]
    assert (created["amount_total"], created["currency"]) == (1900, "usd")
    assert not await can_read_paid_lesson(client, learner)

    await deliver(client, *stripe_double.pay(created["id"]))

    mine = await client.get(f"/api/v1/payments/{payment['payment_id']}", headers=learner.headers)
    assert mine.status_code == 200
    assert (mine.json()["status"], mine.json()["course_id"]) == ("succeeded", PAID)
    assert mine.json()["paid_at"] is not None
    assert await can_read_paid_lesson(client, learner)
    enrollments = (await client.get("/api/v1/enrollments", headers=learner.headers)).json()
    assert [(e["course"]["id"], e["status"]) for e in enrollments["items"]] == [(PAID, "active")]
    entitlements = (
        await client.get("/api/v1/users/me/entitlements", headers=learner.headers)
    ).json()["items"]
    assert [(e["source"], e["payment_id"]) for e in entitlements] == [
        ("purchase", payment["payment_id"])
    ]
    assert ("purchased", payment["payment_id"]) in await activity(session, learner)
    listed = (await client.get("/api/v1/users/me/payments", headers=learner.headers)).json()
    assert [p["id"] for p in listed["items"]] == [payment["payment_id"]]


async def test_replayed_and_duplicate_events_change_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    events = stripe_double.pay(session_of(stripe_double, payment))
    await deliver(client, *events)
    before = await payment_row(session, payment["payment_id"])
    await deliver(client, *events, *events)  # replays: the same event ids
    assert await payment_row(session, payment["payment_id"]) == before
    assert await count(session, "FROM payment_events") == 2
    assert await count(session, "FROM entitlements") == 1
    assert await count(session, "FROM enrollments") == 1
    assert await count(session, "FROM activity_log WHERE verb = 'purchased'") == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda d, o: d.signed("payment_intent.succeeded", o, secret="whsec_other"),
            id="wrong secret",
        ),
        pytest.param(
            lambda d, o: d.signed("payment_intent.succeeded", o, timestamp=int(time.time()) - 3600),
            id="too old",
        ),
        pytest.param(
            lambda d, o: Signed(d.signed("payment_intent.succeeded", o).body, {}), id="no signature"
        ),
        pytest.param(
            lambda d, o: Signed(
                d.signed("payment_intent.succeeded", o).body.replace(b"succeeded", b"succeeded "),
                d.signed("payment_intent.succeeded", o).headers,
            ),
            id="body changed",
        ),
    ],
)
async def test_a_notification_that_does_not_verify_is_refused_and_not_recorded(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
    forge: Any,
) -> None:
    payment = await bought(client, learner)
    stripe_double.pay(session_of(stripe_double, payment))
    intent = next(iter(stripe_double.intents.values()))
    forged: Signed = forge(stripe_double, intent)
    response = await client.post(WEBHOOK, content=forged.body, headers=forged.headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "notification-refused"
    assert await count(session, "FROM payment_events") == 0
    assert (await payment_row(session, payment["payment_id"]))["status"] == "pending"


async def test_a_refund_that_arrives_before_the_success_grants_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    completed, succeeded = stripe_double.pay(session_of(stripe_double, payment))
    intent = next(iter(stripe_double.intents))
    stripe_double._refund({"payment_intent": intent})  # Stripe refunded it at once
    await deliver(client, stripe_double.refunded(intent), succeeded, completed)
    row = await payment_row(session, payment["payment_id"])
    assert (row["status"], row["refunded_minor"]) == ("refunded", 1900)
    assert await count(session, "FROM entitlements") == 0
    assert not await can_read_paid_lesson(client, learner)


async def test_a_late_failure_never_undoes_a_success(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    intent = next(iter(stripe_double.intents.values()))
    await deliver(client, stripe_double.signed("payment_intent.payment_failed", intent))
    assert (await payment_row(session, payment["payment_id"]))["status"] == "succeeded"
    assert await can_read_paid_lesson(client, learner)


async def test_a_crash_before_processing_is_processed_once_later(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment, completed, failed = await crashed_purchase(client, learner, stripe_double, monkeypatch)
    assert failed.json()["code"] == "notification-not-processed"
    # Received and kept, not acted on: nothing granted, the payment still pending.
    assert await count(session, "FROM payment_events WHERE processed_at IS NULL") == 1
    assert await count(session, "FROM entitlements") == 0
    assert (await payment_row(session, payment["payment_id"]))["status"] == "pending"

    await deliver(client, completed, completed)  # Stripe retries (twice, even)
    assert await count(session, "FROM payment_events WHERE processed_at IS NULL") == 0
    assert await count(session, "FROM entitlements") == 1
    assert await count(session, "FROM activity_log WHERE verb = 'purchased'") == 1
    assert await can_read_paid_lesson(client, learner)


async def test_the_price_is_the_one_of_the_checkout(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await session.execute(
        text("UPDATE courses SET price_cents = 4900 WHERE content_id = :c"), {"c": PAID}
    )
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    row = await payment_row(session, payment["payment_id"])
    assert (row["status"], row["amount_minor"], row["flag"]) == ("succeeded", 1900, None)
    assert await can_read_paid_lesson(client, learner)


@pytest.mark.parametrize(("amount", "currency"), [(100, None), (None, "eur")])
async def test_a_reported_amount_or_currency_that_differs_grants_nothing_and_is_flagged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
    amount: int | None,
    currency: str | None,
) -> None:
    payment = await bought(client, learner)
    events = stripe_double.pay(session_of(stripe_double, payment), amount=amount, currency=currency)
    await deliver(client, events[0])  # checkout.session.completed carries the session's total
    assert not await can_read_paid_lesson(client, learner)
    flagged = await client.get("/api/v1/admin/payments?flagged=true", headers=admin.headers)
    assert [p["id"] for p in flagged.json()["items"]] == [payment["payment_id"]]
    assert "nothing granted" in flagged.json()["items"][0]["flag"]


async def test_an_admin_refund_removes_access_and_a_new_purchase_restores_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    url = f"/api/v1/admin/payments/{payment['payment_id']}/refund"
    assert (await client.post(url, json={}, headers=learner.headers)).status_code == 403
    too_much = await client.post(url, json={"amount_minor": 5000}, headers=admin.headers)
    assert too_much.status_code == 409
    assert too_much.json()["refundable_minor"] == 1900

    refunded = await client.post(url, json={}, headers=admin.headers)
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "succeeded"  # until Stripe says it is done
    intent = next(iter(stripe_double.intents))
    assert stripe_double.charges[stripe_double.intents[intent]["latest_charge"]]["refunded"]
    await deliver(client, stripe_double.refunded(intent))
    row = await payment_row(session, payment["payment_id"])
    assert (row["status"], row["refunded_minor"]) == ("refunded", 1900)
    assert not await can_read_paid_lesson(client, learner)
    enrollments = (await client.get("/api/v1/enrollments", headers=learner.headers)).json()
    assert [e["status"] for e in enrollments["items"]] == ["cancelled"]
    again = await client.post(url, json={}, headers=admin.headers)
    assert again.status_code == 409

    second = await bought(client, learner)
    assert second["payment_id"] != payment["payment_id"]
    await deliver(client, *stripe_double.pay(session_of(stripe_double, second)))
    assert await can_read_paid_lesson(client, learner)
    enrollments = (await client.get("/api/v1/enrollments", headers=learner.headers)).json()
    assert [e["status"] for e in enrollments["items"]] == ["active"]  # the same, active again


async def test_a_partial_refund_keeps_access(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    url = f"/api/v1/admin/payments/{payment['payment_id']}/refund"
    assert (
        await client.post(url, json={"amount_minor": 900}, headers=admin.headers)
    ).status_code == 200
    await deliver(client, stripe_double.refunded(next(iter(stripe_double.intents))))
    row = await payment_row(session, payment["payment_id"])
    assert (row["status"], row["refunded_minor"]) == ("partially_refunded", 900)
    assert await can_read_paid_lesson(client, learner)


async def test_checkout_refusals(
    client: httpx.AsyncClient,
    session: AsyncSession,
    app: Any,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"course": FREE}, 422, "course-is-free"),
        ({"course": None, "plan": "nope"}, 422, "unknown-plan"),
        ({"course": "course:nope"}, 404, "not-found"),
        ({"course": "course:draft-course"}, 404, "not-found"),
        ({"return_url": "https://evil.example/back"}, 422, "return-url-refused"),
        ({"return_url": "javascript:alert(1)"}, 422, "return-url-refused"),
        ({"plan_code": "monthly"}, 422, "validation-failed"),
        ({"course": None}, 422, "validation-failed"),
        ({"provider": "paypal"}, 422, "validation-failed"),
        ({"course": "paid-course"}, 422, "validation-failed"),
        ({"extra": 1}, 422, "validation-failed"),
    ]
    for options, status, code in cases:
        response = await checkout(client, learner, **options)
        assert response.status_code == status, (options, response.text)
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["code"] == code, (options, response.json())
    assert (await client.post("/api/v1/checkout", json={})).status_code == 401

    app.state.payment_providers = {"sandbox": providers["sandbox"]}
    refused = await checkout(client, learner, provider="stripe")
    assert (refused.status_code, refused.json()["code"]) == (422, "provider-not-offered")
    assert refused.json()["offered"] == ["sandbox"]
    app.state.payment_providers = providers

    payment = await bought(client, learner)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    again = await checkout(client, learner)
    assert (again.status_code, again.json()["code"]) == (409, "already-entitled")
    assert await count(session, "FROM payments") == 1


async def test_a_second_checkout_answers_the_same_pending_payment(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    first = await bought(client, learner)
    assert await bought(client, learner) == first
    keyed = {"Idempotency-Key": "checkout-key-0001", **learner.headers}
    body = {"course_id": PAID, "provider": "sandbox", "return_url": "https://learn.example/x"}
    replaced = await client.post("/api/v1/checkout", json=body, headers=keyed)
    assert replaced.status_code == 201
    assert replaced.json()["payment_id"] != first["payment_id"]  # another provider: new one
    replay = await client.post("/api/v1/checkout", json=body, headers=keyed)
    assert replay.json() == replaced.json()


async def test_parallel_checkouts_give_one_pending_payment(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    account = await sign_up(live_client)
    responses = await asyncio.gather(*(checkout(live_client, account) for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["payment_id"] for r in responses}) == 1
    others = await sign_up(live_client)
    assert (await checkout(live_client, others)).json()["payment_id"] != responses[0].json()[
        "payment_id"
    ]


async def test_payments_are_their_owners_only(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    other = await sign_up(client)
    url = f"/api/v1/payments/{payment['payment_id']}"
    assert (await client.get(url, headers=other.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/v1/payments/nope", headers=learner.headers)).status_code == 422
    listed = (await client.get("/api/v1/users/me/payments", headers=other.headers)).json()
    assert listed["items"] == []
    assert (await client.get("/api/v1/admin/payments", headers=learner.headers)).status_code == 403
