"""``analytics.revenue_daily`` and ``analytics.checkout_funnel`` on purchases made through
the API (the sandbox, and Stripe against its double for a flagged payment), against
numbers worked out by hand; and neither view names a person."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from tests.commerce.conftest import (  # noqa: F401 - fixtures
    providers,
    stripe_double,
    yookassa_double,
)
from tests.commerce.doubles import StripeDouble
from tests.commerce.helpers import PAID, bought, make_admin_plan
from tests.commerce.test_sandbox import page_of
from tests.commerce.test_stripe import deliver, session_of
from tests.identity.helpers import Account, sign_up

COURSE = ("course", PAID, None)
PLAN = ("plan", None, "monthly")


async def answer(client: httpx.AsyncClient, payment: dict[str, Any], action: str) -> None:
    path, token = page_of(payment)
    response = await client.post(path, data={"token": token, "action": action})
    assert response.status_code == 200, response.text


async def rows(
    session: AsyncSession, view: str, columns: str
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The view's rows of today, keyed by item, provider and currency."""
    where = "WHERE day = (now() AT TIME ZONE 'UTC')::date" if view == "revenue_daily" else ""
    result = await session.execute(
        text(
            f"SELECT item_type, course_id, plan_code, provider, currency, {columns} "
            f"FROM analytics.{view} {where}"
        )
    )
    return {tuple(row[:5]): tuple(row[5:]) for row in result}


async def test_revenue_and_the_checkout_funnel(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    admin: Account,
    stripe_double: StripeDouble,  # noqa: F811
    providers: dict[str, Provider],  # noqa: F811
) -> None:
    learners = [await sign_up(client) for _ in range(6)]
    paid, declined, refunded, pending, flagged, subscriber = learners
    await answer(client, await bought(client, paid, provider="sandbox"), "pay")
    await answer(client, await bought(client, declined, provider="sandbox"), "decline")
    refund = await bought(client, refunded, provider="sandbox")
    await answer(client, refund, "pay")
    response = await client.post(
        f"/api/v1/admin/payments/{refund['payment_id']}/refund", json={}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    await bought(client, pending, provider="sandbox")
    stripe = await bought(client, flagged)
    completed, _ = stripe_double.pay(session_of(stripe_double, stripe), amount=100)
    await deliver(client, completed)  # another amount: flagged, nothing granted
    await make_admin_plan(client, admin)
    await answer(
        client,
        await bought(client, subscriber, provider="sandbox", course=None, plan="monthly"),
        "pay",
    )

    revenue = await rows(
        session, "revenue_daily", "payments, gross_minor, refunded_minor, net_minor, flagged"
    )
    assert revenue == {
        (*COURSE, "sandbox", "USD"): (2, 3800, 1900, 1900, 0),
        (*COURSE, "stripe", "USD"): (0, 0, 0, 0, 1),
        (*PLAN, "sandbox", "USD"): (1, 900, 0, 900, 0),
    }
    funnel = await rows(
        session,
        "checkout_funnel",
        "started, pending, not_paid, paid, partially_refunded, refunded, "
        "buyers_started, buyers_paid, paid_rate, refund_rate",
    )
    half, one, zero = Decimal("0.5000"), Decimal("1.0000"), Decimal("0.0000")
    assert funnel == {
        (*COURSE, "sandbox", "USD"): (4, 1, 1, 2, 0, 1, 4, 2, half, half),
        (*COURSE, "stripe", "USD"): (1, 0, 0, 1, 0, 0, 1, 1, one, zero),
        (*PLAN, "sandbox", "USD"): (1, 0, 0, 1, 0, 0, 1, 1, one, zero),
    }


async def test_the_commerce_views_name_no_one(session: AsyncSession) -> None:
    result = await session.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'analytics' AND table_name IN ('revenue_daily', 'checkout_funnel')"
        )
    )
    columns = set(result.scalars())
    assert {"day", "gross_minor", "started", "buyers_paid"} <= columns
    assert not columns & {"user_id", "email", "name", "provider_payment_id", "payment_id", "flag"}


async def test_an_analyst_reads_them_and_still_not_the_payments(
    analyst: asyncpg.Connection,
) -> None:
    for view in ("revenue_daily", "checkout_funnel"):
        assert await analyst.fetchval(f"SELECT count(*) FROM analytics.{view}") >= 0
    for table in ("payments", "payment_events", "subscriptions"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst.fetch(f"SELECT * FROM public.{table} LIMIT 1")
