"""Erasing an account with payments: pending checkouts are cancelled and subscriptions
end (here at once, at the provider on the next ``reconcile --fix``); the sale records
stay for accounting, the providers' notifications lose the buyer's personal details;
nothing paid afterwards is granted."""

from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from syllabus.commerce.settle import GONE
from tests.commerce.doubles import BUYER, StripeDouble
from tests.commerce.helpers import bought, count, make_admin_plan, payment_row
from tests.commerce.test_reconcile import run
from tests.commerce.test_stripe import deliver, session_of
from tests.identity.helpers import Account, sign_up

MENTIONS_BUYER = "FROM payment_events WHERE payload::text LIKE '%' || :text || '%'"


async def test_erasure_cancels_ends_keeps_the_sales_and_forgets_the_buyer(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    await make_admin_plan(client, admin)
    await make_admin_plan(client, admin, code="yearly", period="year")
    course = await bought(client, learner)  # pending
    subscribed = await bought(client, learner, course=None, plan="monthly")
    [completed] = stripe_double.pay(session_of(stripe_double, subscribed))
    await deliver(client, completed)
    stripe_id = stripe_double.sessions[session_of(stripe_double, subscribed)]["subscription"]
    yearly = await bought(client, learner, course=None, plan="yearly")  # pending
    other = await sign_up(client)  # another buyer: untouched
    others = await bought(client, other)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, others)))
    assert await count(session, MENTIONS_BUYER, text=BUYER["email"]) == 2

    response = await client.delete("/api/v1/users/me", headers=learner.headers)
    assert response.status_code == 204

    statuses = {
        p: (await payment_row(session, p))["status"]
        for p in (subscribed["payment_id"], course["payment_id"], yearly["payment_id"])
    }
    assert statuses == {
        subscribed["payment_id"]: "succeeded",  # the sale stays, as it was
        course["payment_id"]: "canceled",
        yearly["payment_id"]: "canceled",
    }
    subscription = (
        await session.execute(
            text(
                "SELECT status, current_period_end <= clock_timestamp() AS over FROM subscriptions"
            )
        )
    ).one()
    assert tuple(subscription) == ("canceled", True)
    live = (
        "FROM entitlements WHERE user_id = :u AND (ends_at IS NULL OR ends_at > clock_timestamp())"
    )
    assert await count(session, live, u=learner.id) == 0
    # The notifications are kept for accounting, without the buyer (the other's stay).
    for detail in (BUYER["email"], BUYER["name"], BUYER["address"]["line1"]):
        assert await count(session, MENTIONS_BUYER, text=detail) == 1, detail
    assert await count(session, MENTIONS_BUYER, text=subscribed["payment_id"]) == 1
    assert await count(session, "FROM payment_events") == 3

    # Too late: paying the cancelled checkout grants nothing (flagged for a refund), and
    # a renewal Stripe bills before it is told does not bring the subscription back.
    await deliver(client, *stripe_double.pay(session_of(stripe_double, course)))
    late = await payment_row(session, course["payment_id"])
    assert (late["status"], late["flag"]) == ("succeeded", GONE)
    await deliver(client, stripe_double.renew(stripe_id))
    assert await count(session, live, u=learner.id) == 0
    assert await count(session, "FROM subscriptions WHERE status = 'canceled'") == 1
    assert await count(session, MENTIONS_BUYER, text=BUYER["email"]) == 1  # the other's

    # Telling Stripe: the subscription is cancelled there, the open checkout expired.
    found = {
        (difference, fixed) for _, _, difference, fixed in await run(session, providers, fix=True)
    }
    assert found == {
        ("ended here, billing at the provider", True),
        ("cancelled here, open at the provider", True),
    }
    assert stripe_double.subscriptions[stripe_id]["status"] == "canceled"
    assert stripe_double.sessions[session_of(stripe_double, yearly)]["status"] == "expired"
    assert await run(session, providers, fix=True) == []
