"""Settling payments from the providers' notifications, exactly once and in any order.

A notification is verified, then stored (unique by provider and event id) and processed
under its row lock, so a duplicate finds it processed and changes nothing. Processing
locks the payment and moves it only forward (pending < failed, canceled < succeeded <
partially refunded < refunded): a late failure never undoes a success, a refund that
arrives before its success leaves nothing granted when the success comes, and a
success that reports another amount or currency than the payment's snapshot grants
nothing and is flagged. If processing fails, the stored notification is kept
(committed) and the provider gets a 503, so its retry processes it once later.

What a success buys: a course's entitlement and an active enrollment (``learning``),
in the same transaction (activity ``purchased``); a plan's subscription and its scoped
entitlement. A full refund revokes the entitlement and cancels the enrollment
(progress and attempts are kept; a new purchase makes it active again)."""

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import service as access
from syllabus.commerce import repository
from syllabus.commerce.models import Payment, Plan, Subscription
from syllabus.commerce.personal import redact
from syllabus.commerce.providers.base import (
    Notification,
    NotYet,
    PaymentReport,
    Provider,
    Report,
    SubscriptionReport,
)
from syllabus.db.activity import record_activity
from syllabus.db.sql import acting_as
from syllabus.errors import ServiceUnavailable
from syllabus.identity import service as identity
from syllabus.learning import service as learning

logger = logging.getLogger(__name__)

RANK = {
    "pending": 0,
    "failed": 1,
    "canceled": 1,
    "succeeded": 2,
    "partially_refunded": 3,
    "refunded": 4,
}
PERIODS = {"month": timedelta(days=31), "year": timedelta(days=366)}
"""A prepaid plan period (providers that do not bill again): a month is 31 days."""


class NotificationNotProcessed(ServiceUnavailable):
    """A verified notification was stored but could not be acted on now (the provider
    did not answer a follow-up question, or a fault here): the provider retries, and
    the stored copy is processed once, by that retry."""

    title = "Notification not processed"
    code = "notification-not-processed"
    keeps_writes = True


async def receive(
    *,
    session: AsyncSession,
    provider: Provider,
    body: bytes,
    headers: Mapping[str, str],
    client: str | None,
) -> bool:
    """Verify, store and process one notification; False when it was processed before."""
    notification = await provider.verify(body=body, headers=headers, client=client)
    await repository.insert_event(
        session,
        provider=provider.name,
        event_id=notification.event_id,
        type=notification.type,
        payload=notification.payload,
    )
    return await process(session=session, provider=provider, event_id=notification.event_id)


async def process(*, session: AsyncSession, provider: Provider, event_id: str) -> bool:
    """Act on a stored notification once (False: done already)."""
    event = await repository.lock_event(session, provider=provider.name, event_id=event_id)
    if event.processed_at is not None:
        return False
    try:
        async with session.begin_nested():
            reports = await provider.reports(
                Notification(event_id=event.event_id, type=event.type, payload=event.payload)
            )
            gone = False
            for report in reports:
                await apply(session=session, provider=provider, report=report)
                gone = gone or await _about_gone_buyer(session=session, report=report)
            if gone:  # an erased account's notifications are kept without the buyer
                event.payload = redact(event.payload)
    except NotYet as unconfirmed:
        logger.info("%s notification %s kept: %s", provider.name, event_id, unconfirmed)
        return False
    except Exception as error:
        logger.warning("%s notification %s not processed: %r", provider.name, event_id, error)
        raise NotificationNotProcessed(
            f"the {provider.name} notification {event_id} is kept and will be processed later"
        ) from error
    event.processed_at = datetime.now(UTC)
    await session.flush()
    return True


async def _about_gone_buyer(*, session: AsyncSession, report: Report) -> bool:
    payment = await repository.get_payment(session, report.payment_id)
    return payment is not None and await buyer_gone(session=session, user_id=payment.user_id)


async def apply(*, session: AsyncSession, provider: Provider, report: Report) -> None:
    if isinstance(report, SubscriptionReport):
        await _apply_subscription(session=session, provider=provider, report=report)
    else:
        await _apply_payment(session=session, provider=provider, report=report)


def _mismatch(payment: Payment, report: PaymentReport) -> str | None:
    amount = report.amount_minor if report.amount_minor is not None else payment.amount_minor
    currency = report.currency or payment.currency
    if (amount, currency) == (payment.amount_minor, payment.currency):
        return None
    return (
        f"the provider reported {amount} {currency} for a payment of "
        f"{payment.amount_minor} {payment.currency}: nothing granted"
    )


async def _apply_payment(
    *, session: AsyncSession, provider: Provider, report: PaymentReport
) -> None:
    payment = await repository.lock_payment(session, report.payment_id)
    if payment is None or payment.provider != provider.name:
        logger.warning("%s reported on unknown payment %s", provider.name, report.payment_id)
        return
    with acting_as(payment.user_id):  # what a payment changes is the buyer's doing
        await _settle_payment(session=session, provider=provider, payment=payment, report=report)


GONE = "paid after the account was erased or closed: nothing granted, refund it"


async def buyer_gone(*, session: AsyncSession, user_id: uuid.UUID) -> bool:
    """The account was erased (or closed by an admin): nothing more is given to it."""
    return await identity.user_by_id(session=session, user_id=user_id) is None


async def _settle_payment(
    *, session: AsyncSession, provider: Provider, payment: Payment, report: PaymentReport
) -> None:
    if report.outcome == "succeeded" and payment.paid_at is None:
        payment.paid_at = datetime.now(UTC)
        payment.flag = _mismatch(payment, report)
        if payment.flag is None and await buyer_gone(session=session, user_id=payment.user_id):
            payment.flag = GONE
        refunded_first = payment.status == "refunded"
        if RANK[payment.status] < RANK["succeeded"]:
            payment.status = "succeeded"
        if payment.flag is None and not refunded_first:
            await _grant(session=session, provider=provider, payment=payment, report=report)
    elif report.outcome in ("failed", "canceled") and payment.status == "pending":
        payment.status = report.outcome
        if payment.subscription_id is not None:
            await _renewal_failed(session=session, payment=payment)
    if report.refunded_minor is not None and report.refunded_minor > payment.refunded_minor:
        await _refund(session=session, payment=payment, refunded_minor=report.refunded_minor)
    await session.flush()


async def _grant(
    *, session: AsyncSession, provider: Provider, payment: Payment, report: PaymentReport
) -> None:
    if payment.subscription_id is not None:
        await _renewed(session=session, payment=payment)
    elif payment.course_id is not None:
        await access.grant_purchase(
            session=session,
            user_id=payment.user_id,
            course_id=payment.course_id,
            payment_id=payment.id,
        )
        await learning.enroll_purchased(
            session=session, user_id=payment.user_id, course_id=payment.course_id
        )
    elif not provider.recurring:
        await _first_period(session=session, payment=payment, method=report.payment_method_id)
    await record_activity(
        session,
        actor_id=payment.user_id,
        verb="purchased",
        object_type="payment",
        object_id=str(payment.id),
        course_id=payment.course_id,
        result={"amount_minor": payment.amount_minor, "currency": payment.currency},
    )


async def _first_period(*, session: AsyncSession, payment: Payment, method: str | None) -> None:
    """A plan bought from a provider that does not bill by itself: one period, paid
    ahead. With a saved payment method (YooKassa) it is renewed by charging that method
    (``commerce.renew``); without one it ends by itself (buy again to go on)."""
    assert payment.plan_id is not None
    assert payment.provider_payment_id is not None
    plan = await repository.get_plan_by_id(session, payment.plan_id)
    assert plan is not None
    now = datetime.now(UTC)
    subscription = Subscription(
        user_id=payment.user_id,
        plan_id=plan.id,
        provider=payment.provider,
        provider_subscription_id=payment.provider_payment_id,
        current_period_end=now + PERIODS[plan.period],
        cancel_at_period_end=method is None,
        payment_method_id=method,
        state_at=now,
    )
    session.add(subscription)
    await _grant_period(session=session, subscription=subscription, plan=plan)


async def _renewed(*, session: AsyncSession, payment: Payment) -> None:
    """A renewal charge succeeded: the subscription runs one more period from where the
    paid one ended, and its entitlement with it."""
    assert payment.subscription_id is not None
    assert payment.plan_id is not None
    subscription = await repository.get_subscription(session, payment.subscription_id)
    plan = await repository.get_plan_by_id(session, payment.plan_id)
    assert subscription is not None
    assert plan is not None
    subscription.current_period_end += PERIODS[plan.period]
    subscription.status = "active"
    subscription.state_at = datetime.now(UTC)
    await _grant_period(session=session, subscription=subscription, plan=plan)


async def _grant_period(*, session: AsyncSession, subscription: Subscription, plan: Plan) -> None:
    """The entitlement a paid period gives: the plan's scope until the period ends."""
    await session.flush()
    await access.grant_subscription(
        session=session,
        user_id=subscription.user_id,
        subscription_id=subscription.id,
        category_id=plan.category_id,
        ends_at=subscription.current_period_end,
    )


async def _renewal_failed(*, session: AsyncSession, payment: Payment) -> None:
    """A renewal charge was declined: past due (access ended with the paid period);
    ``commerce.renew`` retries until the grace runs out, then it expires."""
    assert payment.subscription_id is not None
    subscription = await repository.get_subscription(session, payment.subscription_id)
    assert subscription is not None
    if subscription.status == "active":
        subscription.status = "past_due"
        subscription.state_at = datetime.now(UTC)
        await session.flush()


async def _refund(*, session: AsyncSession, payment: Payment, refunded_minor: int) -> None:
    payment.refunded_minor = min(refunded_minor, payment.amount_minor)
    full = payment.refunded_minor == payment.amount_minor
    status = "refunded" if full else "partially_refunded"
    if RANK[status] > RANK[payment.status] or payment.status in ("pending", "failed", "canceled"):
        payment.status = status
    if not full:
        return  # a partial refund keeps the access it paid for
    if payment.course_id is not None:
        if await access.revoke_purchase(session=session, payment_id=payment.id):
            await learning.cancel_refunded(
                session=session, user_id=payment.user_id, course_id=payment.course_id
            )
    elif payment.provider_payment_id is not None:
        subscription = await repository.subscription_by_provider_id(
            session,
            provider=payment.provider,
            provider_subscription_id=payment.provider_payment_id,
        )
        if subscription is not None:
            await end_subscription(session=session, subscription=subscription, status="canceled")
    await record_activity(
        session,
        actor_id=payment.user_id,
        verb="refunded",
        object_type="payment",
        object_id=str(payment.id),
        course_id=payment.course_id,
        result={"refunded_minor": payment.refunded_minor, "currency": payment.currency},
    )


async def end_subscription(
    *, session: AsyncSession, subscription: Subscription, status: str
) -> None:
    """The subscription ends now, and its entitlement with it."""
    now = datetime.now(UTC)
    subscription.status = status
    subscription.state_at = now
    subscription.current_period_end = min(subscription.current_period_end, now)
    await session.flush()
    await access.end_subscription(session=session, subscription_id=subscription.id)


async def _apply_subscription(
    *, session: AsyncSession, provider: Provider, report: SubscriptionReport
) -> None:
    """The provider's state now (fetched, not taken from the event) replaces ours."""
    payment = await repository.get_payment(session, report.payment_id)
    if payment is None or payment.plan_id is None:
        logger.warning("%s subscription of unknown payment %s", provider.name, report.payment_id)
        return
    plan = await repository.get_plan_by_id(session, payment.plan_id)
    assert plan is not None
    subscription = await repository.subscription_by_provider_id(
        session, provider=provider.name, provider_subscription_id=report.provider_subscription_id
    )
    if await buyer_gone(session=session, user_id=payment.user_id):
        # Erasure ended it here; the provider is told to stop billing (reconcile --fix).
        logger.warning("%s subscription of a closed account: not applied", provider.name)
        return
    with acting_as(payment.user_id):
        await _save_subscription(
            session=session,
            provider=provider,
            report=report,
            payment=payment,
            plan=plan,
            subscription=subscription,
        )


async def _save_subscription(
    *,
    session: AsyncSession,
    provider: Provider,
    report: SubscriptionReport,
    payment: Payment,
    plan: Plan,
    subscription: Subscription | None,
) -> None:
    now = datetime.now(UTC)
    if subscription is None:
        subscription = Subscription(
            user_id=payment.user_id,
            plan_id=plan.id,
            provider=provider.name,
            provider_subscription_id=report.provider_subscription_id,
            current_period_end=report.current_period_end,
            state_at=now,
        )
        session.add(subscription)
    subscription.status = report.status
    subscription.current_period_end = report.current_period_end
    subscription.cancel_at_period_end = report.cancel_at_period_end
    subscription.state_at = now
    await session.flush()
    if report.status in ("canceled", "expired"):
        await access.end_subscription(session=session, subscription_id=subscription.id)
    elif report.current_period_end > now:
        await _grant_period(session=session, subscription=subscription, plan=plan)
    else:  # unpaid past its period: access ended with the period
        await access.move_subscription_end(
            session=session, subscription_id=subscription.id, ends_at=report.current_period_end
        )
