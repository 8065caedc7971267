"""Reconciliation (``syllabus payments reconcile``): each provider's state now against
what its notifications told us, for the payments and subscriptions that can still move.

A difference is reported; with ``fix`` it is applied through the settlement code the
webhooks use (:func:`settle.apply`: forward only, under the payment's lock), so a run is
idempotent and a notification that arrives after it changes nothing. What the webhooks
cannot have said is acted on at the provider: a checkout cancelled here (the buyer chose
another provider, or erased the account) is closed there, and a subscription that ended
here (a refund, an erased account) is cancelled there. One difference is for a person,
never fixed: a payment held as paid here that the provider does not hold as paid.

Each check is one unit of work of the caller's (services never commit)."""

import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import repository, settle
from syllabus.commerce.models import Payment, Subscription
from syllabus.commerce.providers.base import (
    PaymentReport,
    Provider,
    ProviderUnavailable,
    Report,
    SubscriptionReport,
)

NOT_CONFIGURED = "not checked: the provider is not configured here"


@dataclass(frozen=True)
class Finding:
    """One difference (or a check that could not be made), and whether it was fixed."""

    subject: str
    provider: str
    difference: str
    fixed: bool = False


@dataclass(frozen=True)
class Work:
    """What a run checks: payments and subscriptions by id, stored notifications."""

    payments: list[uuid.UUID]
    subscriptions: list[uuid.UUID]
    notifications: list[tuple[str, str]]


async def work(*, session: AsyncSession, since: datetime) -> Work:
    """Payments created since ``since`` that a provider can still move (pending, paid,
    partly refunded, or cancelled here while perhaps open there); live subscriptions and
    those that ended since; notifications stored since and never processed."""
    return Work(
        payments=await repository.payments_to_reconcile(session, since=since),
        subscriptions=await repository.subscriptions_to_reconcile(session, since=since),
        notifications=await repository.unprocessed_events(session, since=since),
    )


def _money(minor: int | None, currency: str | None) -> str:
    return f"{minor} {currency}" if minor is not None else "an unknown amount"


def _payment_differences(payment: Payment, report: PaymentReport) -> list[str]:
    """What the webhooks missed, by the rules settle applies (its fix is ``apply``)."""
    found: list[str] = []
    if report.outcome == "succeeded" and payment.paid_at is None:
        paid = _money(report.amount_minor, report.currency)
        found.append(f"paid at the provider ({paid}), {payment.status} here")
    elif report.outcome in ("failed", "canceled") and payment.status == "pending":
        found.append(f"{report.outcome} at the provider, pending here")
    if report.refunded_minor is not None and report.refunded_minor > payment.refunded_minor:
        found.append(
            f"{report.refunded_minor} {payment.currency} refunded at the provider, "
            f"{payment.refunded_minor} here"
        )
    return found


ENDED = ("canceled", "expired")


def _subscription_difference(ours: Subscription, report: SubscriptionReport) -> str | None:
    theirs = (report.status, report.current_period_end, report.cancel_at_period_end)
    if theirs == (ours.status, ours.current_period_end, ours.cancel_at_period_end):
        return None
    if ours.status in ENDED and report.status in ENDED:
        return None  # ended on both sides: when it would have ended matters no more
    return (
        f"{report.status} to {report.current_period_end:%Y-%m-%d %H:%M} at the provider"
        f"{' (cancels then)' if report.cancel_at_period_end else ''}, "
        f"{ours.status} to {ours.current_period_end:%Y-%m-%d %H:%M} here"
        f"{' (cancels then)' if ours.cancel_at_period_end else ''}"
    )


async def _ask(
    provider: Provider, subject: str, call: Awaitable[list[Report]]
) -> list[Report] | Finding:
    try:
        reports = await call
    except ProviderUnavailable as error:
        return Finding(subject, provider.name, f"not checked: {error.detail}")
    return reports


async def check_payment(
    *, session: AsyncSession, providers: dict[str, Provider], payment_id: uuid.UUID, fix: bool
) -> list[Finding]:
    payment = await repository.get_payment(session, payment_id)
    assert payment is not None
    assert payment.provider_payment_id is not None
    subject = f"payment {payment.id}"
    provider = providers.get(payment.provider)
    if provider is None:
        return [Finding(subject, payment.provider, NOT_CONFIGURED)]
    asked = await _ask(
        provider,
        subject,
        provider.payment_reports(
            payment_id=payment.id, provider_payment_id=payment.provider_payment_id
        ),
    )
    if isinstance(asked, Finding):
        return [asked]
    findings: list[Finding] = []
    for report in asked:
        if isinstance(report, SubscriptionReport):
            findings += await _new_subscription(
                session=session, provider=provider, report=report, fix=fix
            )
            continue
        if report.amount_minor is None and report.outcome is None:
            continue  # the provider keeps no state of its own (the sandbox)
        findings += await _payment(
            session=session, provider=provider, payment=payment, report=report, fix=fix
        )
    return findings


async def _payment(
    *,
    session: AsyncSession,
    provider: Provider,
    payment: Payment,
    report: PaymentReport,
    fix: bool,
) -> list[Finding]:
    subject = f"payment {payment.id}"
    if payment.status == "canceled" and report.outcome is None:
        closed = fix and await _settled_by(provider.abandon(str(payment.provider_payment_id)))
        how = "" if closed or not fix else f" ({provider.name} closes it when its time runs out)"
        difference = f"cancelled here, open at the provider{how}"
        return [Finding(subject, provider.name, difference, closed)]
    if payment.paid_at is not None and report.outcome != "succeeded":
        return [
            Finding(
                subject,
                provider.name,
                f"paid here, {report.outcome or 'not paid'} at the provider: for a person "
                "to look at (nothing is changed)",
            )
        ]
    differences = _payment_differences(payment, report)
    if differences and fix:
        await settle.apply(session=session, provider=provider, report=report)
    return [Finding(subject, provider.name, difference, fix) for difference in differences]


async def _settled_by(call: Awaitable[bool]) -> bool:
    """True when the provider did what was asked (a provider error: not done, next run)."""
    try:
        return await call
    except ProviderUnavailable:
        return False


async def _new_subscription(
    *, session: AsyncSession, provider: Provider, report: SubscriptionReport, fix: bool
) -> list[Finding]:
    """A subscription the provider started that no notification told us of (one we
    know is checked on its own, :func:`check_subscription`)."""
    ours = await repository.subscription_by_provider_id(
        session, provider=provider.name, provider_subscription_id=report.provider_subscription_id
    )
    if ours is not None:
        return []
    subject = f"subscription {report.provider_subscription_id}"
    payment = await repository.get_payment(session, report.payment_id)
    if payment is not None and await settle.buyer_gone(session=session, user_id=payment.user_id):
        if report.status not in ("active", "past_due"):
            return []
        cancelled = fix and await _settled_by(_cancel(provider, report))
        difference = "billing at the provider for an erased or closed account"
        return [Finding(subject, provider.name, difference, cancelled)]
    if fix:
        await settle.apply(session=session, provider=provider, report=report)
    return [Finding(subject, provider.name, f"{report.status} at the provider, not here", fix)]


async def check_subscription(
    *,
    session: AsyncSession,
    providers: dict[str, Provider],
    subscription_id: uuid.UUID,
    fix: bool,
) -> list[Finding]:
    subscription = await repository.get_subscription(session, subscription_id)
    assert subscription is not None
    subject = f"subscription {subscription.id}"
    provider = providers.get(subscription.provider)
    if provider is None:
        return [Finding(subject, subscription.provider, NOT_CONFIGURED)]
    asked = await _ask(
        provider, subject, provider.subscription_reports(subscription.provider_subscription_id)
    )
    if isinstance(asked, Finding):
        return [asked]
    findings: list[Finding] = []
    for report in asked:
        assert isinstance(report, SubscriptionReport)
        ended_here = subscription.status in ENDED
        if ended_here and report.status in ("active", "past_due"):
            cancelled = fix and await _settled_by(_cancel(provider, report))
            findings.append(
                Finding(subject, provider.name, "ended here, billing at the provider", cancelled)
            )
            continue
        difference = _subscription_difference(subscription, report)
        if difference is not None:
            if fix:
                await settle.apply(session=session, provider=provider, report=report)
            findings.append(Finding(subject, provider.name, difference, fix))
    return findings


async def _cancel(provider: Provider, report: SubscriptionReport) -> bool:
    await provider.cancel_now(report.provider_subscription_id)
    return True


async def retry_notification(
    *,
    session: AsyncSession,
    providers: dict[str, Provider],
    provider_name: str,
    event_id: str,
    fix: bool,
) -> list[Finding]:
    """A notification stored but never processed (its processing failed and the provider
    gave up retrying): with ``fix``, processed now, once, like its next delivery would be."""
    subject = f"notification {event_id}"
    provider = providers.get(provider_name)
    if provider is None:
        return [Finding(subject, provider_name, "not processed: the provider is not configured")]
    if not fix:
        return [Finding(subject, provider_name, "stored, never processed")]
    try:
        await settle.process(session=session, provider=provider, event_id=event_id)
    except settle.NotificationNotProcessed as error:
        return [Finding(subject, provider_name, f"stored, never processed: {error.__cause__!r}")]
    event = await repository.lock_event(session, provider=provider_name, event_id=event_id)
    if event.processed_at is None:  # kept: the provider's API does not confirm it (yet)
        return [Finding(subject, provider_name, "stored, not confirmed by the provider")]
    return [Finding(subject, provider_name, "stored, never processed", fixed=True)]


UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""Opens one unit of work (the command: a transaction that commits when it ends)."""


async def run(
    *, unit: UnitOfWork, providers: dict[str, Provider], since: datetime, fix: bool
) -> tuple[int, list[Finding]]:
    """A whole run, each check in a unit of work of its own, so one fix is kept whatever
    happens to the next: how many things were checked, and what differed."""
    async with unit() as session:
        todo = await work(session=session, since=since)
    findings: list[Finding] = []
    for payment_id in todo.payments:
        async with unit() as session:
            findings += await check_payment(
                session=session, providers=providers, payment_id=payment_id, fix=fix
            )
    for subscription_id in todo.subscriptions:
        async with unit() as session:
            findings += await check_subscription(
                session=session, providers=providers, subscription_id=subscription_id, fix=fix
            )
    for provider_name, event_id in todo.notifications:
        async with unit() as session:
            findings += await retry_notification(
                session=session,
                providers=providers,
                provider_name=provider_name,
                event_id=event_id,
                fix=fix,
            )
    checked = len(todo.payments) + len(todo.subscriptions) + len(todo.notifications)
    return checked, findings
