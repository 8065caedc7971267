"""``syllabus payments reconcile``: the providers' state (asked through the real SDKs,
against the doubles) against ours. Reports without ``--fix``; with it, applies through
the webhooks' settlement, so a second run finds nothing and a notification that comes
late changes nothing."""

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import reconcile
from syllabus.commerce.providers.base import Provider
from syllabus.config import Settings
from tests.commerce.doubles import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, StripeDouble, YooKassaDouble
from tests.commerce.helpers import (
    PAID_LESSON,
    bought,
    can_read_paid_lesson,
    count,
    make_admin_plan,
    payment_row,
)
from tests.commerce.test_stripe import crashed_purchase, deliver, session_of
from tests.commerce.test_yookassa import yookassa_id
from tests.identity.helpers import Account, sign_up

Seen = list[tuple[str, str, str, bool]]


async def run(session: AsyncSession, providers: dict[str, Provider], *, fix: bool) -> Seen:
    """One run, as the command makes it, its units of work in the test's transaction."""
    _, found = await reconcile.run(
        unit=lambda: nullcontext(session),
        providers=providers,
        since=datetime.now(UTC) - timedelta(days=1),
        fix=fix,
    )
    return [(f.subject, f.provider, f.difference, f.fixed) for f in found]


async def test_a_success_the_webhooks_missed_is_reported_then_fixed_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    events = stripe_double.pay(session_of(stripe_double, payment))  # never delivered
    unpaid_sandbox = await bought(client, await sign_up(client), provider="sandbox")
    subject = f"payment {payment['payment_id']}"

    missed = [(subject, "stripe", "paid at the provider (1900 USD), pending here", False)]
    assert await run(session, providers, fix=False) == missed
    assert (await payment_row(session, payment["payment_id"]))["status"] == "pending"
    assert not await can_read_paid_lesson(client, learner)

    fixed = [(subject, "stripe", "paid at the provider (1900 USD), pending here", True)]
    assert await run(session, providers, fix=True) == fixed
    assert (await payment_row(session, payment["payment_id"]))["status"] == "succeeded"
    assert await can_read_paid_lesson(client, learner)
    assert await run(session, providers, fix=True) == []

    await deliver(client, *events)  # the notifications arrive after all: nothing changes
    assert await count(session, "FROM entitlements") == 1
    assert await count(session, "FROM enrollments WHERE status = 'active'") == 1
    assert await count(session, "FROM activity_log WHERE verb = 'purchased'") == 1
    assert (await payment_row(session, unpaid_sandbox["payment_id"]))["status"] == "pending"


async def test_a_missed_refund_removes_access(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await deliver(client, *stripe_double.pay(session_of(stripe_double, payment)))
    stripe_double._refund({"payment_intent": next(iter(stripe_double.intents))})  # in Stripe
    difference = "1900 USD refunded at the provider, 0 here"
    subject = f"payment {payment['payment_id']}"
    assert await run(session, providers, fix=True) == [(subject, "stripe", difference, True)]
    row = await payment_row(session, payment["payment_id"])
    assert (row["status"], row["refunded_minor"]) == ("refunded", 1900)
    assert not await can_read_paid_lesson(client, learner)
    assert await run(session, providers, fix=True) == []


async def test_a_yookassa_payment_is_settled_from_its_api(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    yookassa_double: YooKassaDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner, provider="yookassa")
    assert await run(session, providers, fix=True) == []  # pending there too
    yookassa_double.settle(yookassa_id(yookassa_double, payment), "succeeded")  # not sent
    [(_, provider, difference, fixed)] = await run(session, providers, fix=True)
    assert (provider, difference, fixed) == (
        "yookassa",
        "paid at the provider (1900 USD), pending here",
        True,
    )
    assert await can_read_paid_lesson(client, learner)


async def test_subscriptions_follow_the_provider_and_end_there_when_ended_here(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    admin: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    await make_admin_plan(client, admin)
    payment = await bought(client, learner, course=None, plan="monthly")
    checkout = session_of(stripe_double, payment)
    stripe_double.pay(checkout)  # checkout.session.completed never delivered
    stripe_id = stripe_double.sessions[checkout]["subscription"]
    found = await run(session, providers, fix=True)
    assert [(subject.split()[0], difference, fixed) for subject, _, difference, fixed in found] == [
        ("payment", "paid at the provider (900 USD), pending here", True),
        ("subscription", "active at the provider, not here", True),
    ]
    assert await can_read_paid_lesson(client, learner)
    assert await run(session, providers, fix=True) == []

    stripe_double.renew(stripe_id)  # invoice.paid never delivered
    [(_, _, renewed, fixed)] = await run(session, providers, fix=True)
    assert renewed.startswith("active to ")
    assert fixed
    end = (await session.execute(text("SELECT current_period_end FROM subscriptions"))).scalar_one()
    period_end = stripe_double.subscriptions[stripe_id]["items"]["data"][0]["current_period_end"]
    assert end == datetime.fromtimestamp(period_end, UTC)

    # Ended here (as a refund or an erased account ends it), still billed at Stripe:
    # the run cancels it there.
    await session.execute(text("UPDATE subscriptions SET status = 'canceled'"))
    [(_, _, ended, fixed)] = await run(session, providers, fix=True)
    assert (ended, fixed) == ("ended here, billing at the provider", True)
    assert stripe_double.subscriptions[stripe_id]["status"] == "canceled"
    assert await run(session, providers, fix=True) == []


async def test_a_checkout_cancelled_here_is_closed_at_the_provider(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    first = await bought(client, learner)
    await bought(client, learner, provider="yookassa")  # cancels the Stripe one here
    assert (await payment_row(session, first["payment_id"]))["status"] == "canceled"
    stripe_session = session_of(stripe_double, first)
    [(subject, _, difference, fixed)] = await run(session, providers, fix=False)
    assert (subject, difference, fixed) == (
        f"payment {first['payment_id']}",
        "cancelled here, open at the provider",
        False,
    )
    assert stripe_double.sessions[stripe_session]["status"] == "open"
    [(_, _, _, fixed)] = await run(session, providers, fix=True)
    assert fixed
    assert stripe_double.sessions[stripe_session]["status"] == "expired"
    assert await run(session, providers, fix=True) == []


async def test_a_notification_never_processed_is_processed_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await crashed_purchase(client, learner, stripe_double, monkeypatch)
    found = await run(session, providers, fix=True)
    notice = [f for f in found if f[0].startswith("notification")]
    assert [(d, fixed) for _, _, d, fixed in notice] == [("stored, never processed", True)]
    assert await count(session, "FROM payment_events WHERE processed_at IS NULL") == 0
    assert await count(session, "FROM activity_log WHERE verb = 'purchased'") == 1
    assert await can_read_paid_lesson(client, learner)
    assert await run(session, providers, fix=True) == []


async def test_paid_here_but_not_at_the_provider_is_for_a_person(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
) -> None:
    payment = await bought(client, learner)
    await session.execute(
        text("UPDATE payments SET status = 'succeeded', paid_at = now() WHERE id = :id"),
        {"id": payment["payment_id"]},
    )
    for fix in (False, True):
        [(_, _, difference, fixed)] = await run(session, providers, fix=fix)
        assert difference.startswith("paid here, not paid at the provider")
        assert not fixed
    assert (await payment_row(session, payment["payment_id"]))["status"] == "succeeded"
    stripe_double.down = True
    [(_, _, difference, fixed)] = await run(session, providers, fix=True)
    assert difference.startswith("not checked: Stripe")
    assert not fixed


async def test_the_command_reports_fixes_and_exits_by_what_is_left(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    settings: Settings,
    stripe_double: StripeDouble,
    providers: dict[str, Provider],
    tmp_path: Path,
) -> None:
    from tests.test_cli import run_cli

    account = await sign_up(live_client)
    payment = await bought(live_client, account)
    stripe_double.pay(session_of(stripe_double, payment))
    environment = {
        "SYLLABUS_POSTGRES_URL": str(settings.postgres_url),
        "SYLLABUS_POSTGRES_OWNER_URL": str(settings.postgres_owner_url),
        "SYLLABUS_STRIPE_SECRET_KEY": STRIPE_KEY,
        "SYLLABUS_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "SYLLABUS_STRIPE_API_BASE": stripe_double.url,
    }
    line = f"payment {payment['payment_id']}\tstripe\tpaid at the provider (1900 USD), pending here"

    reported = run_cli("payments", "reconcile", cwd=tmp_path, **environment)
    assert reported.returncode == 1, reported.stderr
    assert reported.stdout.splitlines() == [f"{line}\tleft"]
    assert "1 difference(s), 0 fixed, 1 left" in reported.stderr
    assert (await live_client.get(PAID_LESSON, headers=account.headers)).status_code == 403

    fixed = run_cli("payments", "reconcile", "--fix", cwd=tmp_path, **environment)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.splitlines() == [f"{line}\tfixed"]
    assert (await live_client.get(PAID_LESSON, headers=account.headers)).status_code == 200

    again = run_cli(
        "payments", "reconcile", "--fix", "--since", "2020-01-01", cwd=tmp_path, **environment
    )
    assert (again.returncode, again.stdout) == (0, "")
    assert "since 2020-01-01 00:00 UTC: 0 difference(s)" in again.stderr
