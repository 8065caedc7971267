"""Subscriptions: a Stripe plan checkout starts one; renewals move the period's end,
a lapse ends access at the period's end, a cancellation stops billing at it. The state
applied is always the subscription as Stripe holds it now, whatever order events come in."""

import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from tests.commerce.doubles import StripeDouble
from tests.commerce.helpers import bought, can_read_paid_lesson, make_admin_plan
from tests.commerce.test_stripe import deliver, session_of
from tests.identity.helpers import Account


async def subscriptions(client: httpx.AsyncClient, account: Account) -> list[dict[str, object]]:
    response = await client.get("/api/v1/users/me/subscriptions", headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_subscribe_renew_lapse_and_cancel(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    await make_admin_plan(client, admin, category="programming")
    payment = await bought(client, learner, course=None, plan="monthly")
    checkout = stripe_double.sessions[session_of(stripe_double, payment)]
    assert (checkout["mode"], checkout["_interval"]) == ("subscription", "month")
    [completed] = stripe_double.pay(checkout["id"])
    await deliver(client, completed)

    [subscription] = await subscriptions(client, learner)
    assert (subscription["plan_code"], subscription["status"]) == ("monthly", "active")
    assert await can_read_paid_lesson(client, learner)
    enrolled = await client.post(
        "/api/v1/enrollments", json={"course_id": "course:paid-course"}, headers=learner.headers
    )
    assert enrolled.status_code == 201, enrolled.text  # the subscription covers it
    again = await client.post(
        "/api/v1/checkout",
        json={
            "plan_code": "monthly",
            "provider": "stripe",
            "return_url": "https://learn.example/x",
        },
        headers=learner.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already-entitled")

    stripe_id = checkout["subscription"]
    first_end = subscription["current_period_end"]
    renewal = stripe_double.renew(stripe_id)
    await deliver(client, renewal, renewal)  # and a duplicate
    [renewed] = await subscriptions(client, learner)
    assert str(renewed["current_period_end"]) > str(first_end)
    entitlements = (
        await client.get("/api/v1/users/me/entitlements", headers=learner.headers)
    ).json()["items"]
    [scoped] = [e for e in entitlements if e["source"] == "subscription"]
    assert (scoped["category"], scoped["course_id"], scoped["current"]) == (
        "programming",
        None,
        True,
    )

    cancelled = await client.post(
        f"/api/v1/users/me/subscriptions/{renewed['id']}/cancel", headers=learner.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_at_period_end"] is True
    assert stripe_double.subscriptions[stripe_id]["cancel_at_period_end"] is True
    assert await can_read_paid_lesson(client, learner)  # until the period ends

    # It lapses: Stripe reports it past due with the period over; an older "active"
    # event delivered afterwards changes nothing (the state is fetched, not trusted).
    stale = stripe_double.signed(
        "customer.subscription.updated", dict(stripe_double.subscriptions[stripe_id])
    )
    lapsed = stripe_double.set_status(stripe_id, "past_due", period_end=int(time.time()) - 60)
    await deliver(client, lapsed, stale)
    [state] = await subscriptions(client, learner)
    assert state["status"] == "past_due"
    assert not await can_read_paid_lesson(client, learner)

    deleted = stripe_double.set_status(stripe_id, "canceled")
    await deliver(client, deleted)
    [ended] = await subscriptions(client, learner)
    assert ended["status"] == "canceled"
    refused = await client.post(
        f"/api/v1/users/me/subscriptions/{ended['id']}/cancel", headers=learner.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "subscription-not-active")


async def test_subscriptions_are_their_owners_only(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    await make_admin_plan(client, admin)
    payment = await bought(client, learner, course=None, plan="monthly")
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    [subscription] = await subscriptions(client, learner)
    other = await client.post(
        "/api/v1/auth/register",
        json={"email": "other-sub@example.org", "password": "correct horse battery", "name": "O"},
    )
    assert other.status_code == 201
    token = (
        await client.post(
            "/api/v1/auth/login",
            json={"email": "other-sub@example.org", "password": "correct horse battery"},
        )
    ).json()["access_token"]
    url = f"/api/v1/users/me/subscriptions/{subscription['id']}/cancel"
    assert (await client.post(url, headers={"Authorization": f"Bearer {token}"})).status_code == 404
    assert (await client.post(url)).status_code == 401
    bad = "/api/v1/users/me/subscriptions/nope/cancel"
    assert (await client.post(bad, headers=learner.headers)).status_code == 422
