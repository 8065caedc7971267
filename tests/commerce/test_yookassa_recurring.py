"""YooKassa recurring payments (the SDK against the local double): a plan's first payment
saves the buyer's payment method; ``renew.renew_due`` charges it when the period ends,
once per period and day whatever reruns or crashes, settles the answer through the
webhooks' code, and lets a declined subscription lapse after the grace."""

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import renew
from syllabus.commerce.providers.base import Provider
from syllabus.commerce.providers.yookassa import YooKassaProvider
from syllabus.config import Settings
from tests.commerce.doubles import YOOKASSA_SECRET, YOOKASSA_SHOP, YooKassaDouble
from tests.commerce.helpers import bought, can_read_paid_lesson, count, make_admin_plan
from tests.commerce.test_yookassa import WEBHOOK, yookassa_id
from tests.identity.helpers import Account

GRACE = timedelta(days=3)


class Crash(Exception):
    """The run dies after YooKassa charged and before our commit."""


async def subscribe(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    admin: Account,
    learner: Account,
    double: YooKassaDouble,
) -> str:
    """Buy a monthly plan through YooKassa; the saved method's id."""
    await make_admin_plan(client, admin, category="programming", price_minor=29900, currency="RUB")
    payment = await bought(client, learner, course=None, plan="monthly", provider="yookassa")
    created = double.payments[yookassa_id(double, payment)]
    [request] = [r for r in double.requests if r.method == "POST"]
    assert request.body["save_payment_method"] is True
    body = double.settle(created["id"], "succeeded")
    assert (await yookassa_client.post(WEBHOOK, content=body)).status_code == 200
    method: str = created["payment_method"]["id"]
    return method


async def subscription(session: AsyncSession) -> dict[str, Any]:
    row = (
        await session.execute(
            text(
                "SELECT id, status, current_period_end, payment_method_id, cancel_at_period_end"
                " FROM subscriptions"
            )
        )
    ).one()
    return dict(row._mapping)


async def period_ends(session: AsyncSession, ago: timedelta) -> datetime:
    """Move the paid period's end (and its entitlement's) into the past."""
    end = datetime.now(UTC) - ago
    await session.execute(text("UPDATE subscriptions SET current_period_end = :e"), {"e": end})
    await session.execute(
        text(
            "UPDATE entitlements SET starts_at = CAST(:e AS timestamptz) - interval '31 days',"
            " ends_at = :e"
            " WHERE subscription_id IS NOT NULL"
        ),
        {"e": end},
    )
    return end


async def run(
    session: AsyncSession, providers: dict[str, Provider], *, later: timedelta = timedelta()
) -> renew.Renewals:
    provider = providers["yookassa"]
    assert isinstance(provider, YooKassaProvider)
    return await renew.renew_due(
        unit=lambda: nullcontext(session),
        provider=provider,
        now=datetime.now(UTC) + later,
        grace=GRACE,
    )


async def crashed_run(session: AsyncSession, providers: dict[str, Provider]) -> None:
    async with session.begin_nested():
        await run(session, providers)
        raise Crash


def charges(double: YooKassaDouble, method: str) -> list[dict[str, Any]]:
    """Payments YooKassa made by charging the saved method (no buyer, no confirmation)."""
    return [
        p
        for p in double.payments.values()
        if "confirmation" not in p and p["payment_method"]["id"] == method
    ]


def charge_requests(double: YooKassaDouble) -> list[Any]:
    return [r for r in double.requests if r.method == "POST" and "payment_method_id" in r.body]


async def test_a_renewal_charges_the_saved_method_once_and_extends_the_period(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    method = await subscribe(client, yookassa_client, admin, learner, yookassa_double)
    first = await subscription(session)
    assert (first["payment_method_id"], first["cancel_at_period_end"]) == (method, False)
    assert (await run(session, providers)).renewed == 0  # not due yet: nothing charged
    assert charge_requests(yookassa_double) == []

    end = await period_ends(session, timedelta(hours=1))
    assert not await can_read_paid_lesson(client, learner)
    with pytest.raises(Crash):  # charged at YooKassa, then our transaction is lost
        await crashed_run(session, providers)
    assert (await run(session, providers)).renewed == 1
    assert (await run(session, providers)).renewed == 0  # a rerun: renewed already

    requests = charge_requests(yookassa_double)
    assert len(requests) == 2  # the crashed run's and the retry, with one key
    assert requests[0].headers["idempotence-key"] == requests[1].headers["idempotence-key"]
    assert "confirmation" not in requests[0].body
    assert requests[0].body["payment_method_id"] == method
    assert requests[0].body["amount"] == {"value": "299.00", "currency": "RUB"}
    assert len(charges(yookassa_double, method)) == 1  # charged once
    renewed = await subscription(session)
    assert renewed["status"] == "active"
    assert renewed["current_period_end"] == end + timedelta(days=31)
    assert await can_read_paid_lesson(client, learner)
    assert (
        await count(
            session,
            "FROM payments WHERE subscription_id = :s AND status = 'succeeded'"
            " AND amount_minor = 29900 AND currency = 'RUB'",
            s=renewed["id"],
        )
        == 1
    )


async def test_a_declined_renewal_is_past_due_then_expires_after_the_grace(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    method = await subscribe(client, yookassa_client, admin, learner, yookassa_double)
    await period_ends(session, timedelta(hours=1))
    yookassa_double.decline = True
    assert (await run(session, providers)).declined == 1
    assert (await run(session, providers)).declined == 1  # the same day: the same charge
    assert len(charges(yookassa_double, method)) == 1
    assert (await subscription(session))["status"] == "past_due"
    assert not await can_read_paid_lesson(client, learner)  # access ended with the period
    assert await count(session, "FROM payments WHERE status = 'canceled'") == 1

    assert (await run(session, providers, later=timedelta(days=1))).declined == 1  # retried
    assert len(charges(yookassa_double, method)) == 2
    assert (await run(session, providers, later=GRACE)).expired == 1
    lapsed = await subscription(session)
    assert (lapsed["status"], lapsed["payment_method_id"]) == ("expired", None)
    yookassa_double.decline = False
    assert (await run(session, providers, later=GRACE)).expired == 0  # never again
    assert len(charges(yookassa_double, method)) == 2
    assert not await can_read_paid_lesson(client, learner)


async def test_a_cancelled_or_erased_subscription_is_not_charged(
    client: httpx.AsyncClient,
    yookassa_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    await subscribe(client, yookassa_client, admin, learner, yookassa_double)
    subscription_id = (await subscription(session))["id"]
    cancelled = await client.post(
        f"/api/v1/users/me/subscriptions/{subscription_id}/cancel", headers=learner.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await period_ends(session, timedelta(hours=1))
    assert (await run(session, providers)) == renew.Renewals()
    assert charge_requests(yookassa_double) == []
    assert not await can_read_paid_lesson(client, learner)

    await session.execute(text("UPDATE subscriptions SET cancel_at_period_end = false"))
    erased = await client.delete("/api/v1/users/me", headers=learner.headers)
    assert erased.status_code == 204, erased.text
    assert (await subscription(session))["payment_method_id"] is None
    assert (await run(session, providers)) == renew.Renewals()
    assert charge_requests(yookassa_double) == []


async def test_the_command_runs_against_the_database_and_yookassa(
    live_loaded: Path, settings: Settings, yookassa_double: YooKassaDouble, tmp_path: Path
) -> None:
    """The cron entry point is wired (settings, engine, provider): nothing is due here."""
    from tests.test_cli import run_cli

    environment = {
        "SYLLABUS_POSTGRES_URL": str(settings.postgres_url),
        "SYLLABUS_POSTGRES_OWNER_URL": str(settings.postgres_owner_url),
        "SYLLABUS_YOOKASSA_SHOP_ID": YOOKASSA_SHOP,
        "SYLLABUS_YOOKASSA_SECRET_KEY": YOOKASSA_SECRET,
        "SYLLABUS_YOOKASSA_API_BASE": f"{yookassa_double.url}/v3",
    }
    done = run_cli("payments", "renew-due", "--grace-days", "2", cwd=tmp_path, **environment)
    assert done.returncode == 0, done.stderr
    assert "0 renewed, 0 declined (past due), 0 expired" in done.stderr
    refused = run_cli("payments", "renew-due", "--grace-days", "-1", cwd=tmp_path, **environment)
    assert refused.returncode == 2
