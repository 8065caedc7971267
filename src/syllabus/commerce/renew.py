"""Renewing YooKassa subscriptions: YooKassa bills nothing by itself, so each period is
charged here to the payment method saved by the plan's first payment.

``syllabus payments renew-due`` runs it (from cron, next to ``reconcile``). Each due
subscription is renewed in its own transaction under its row lock (a second run at the
same time skips it). The charge's Idempotence-Key is derived from the subscription, the
period it pays for and the day of the attempt: a rerun, or a retry after a crash between
the charge and our commit, is the same charge at YooKassa, and a declined charge is tried
again the next day. The answer is settled by the webhooks' own code (``settle``): a
success extends the period and its entitlement, a decline makes the subscription
``past_due`` (access ended with the paid period); once the grace after the period end has
passed without a payment it is ``expired``. A subscription cancelled at period end, or
ended (erasure ends it and forgets the method), is never charged."""

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import repository, settle
from syllabus.commerce.models import Payment, Subscription
from syllabus.commerce.providers.base import Order, Recurring
from syllabus.db.sql import acting_as

Unit = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass
class Renewals:
    renewed: int = 0
    declined: int = 0
    expired: int = 0
    waiting: int = 0
    """A charge still pending at the provider: its notification settles it."""


async def renew_due(
    *, unit: Unit, provider: Recurring, now: datetime, grace: timedelta
) -> Renewals:
    """Charge every subscription due at ``now``; expire those past the grace."""
    async with unit() as session:
        due = await repository.due_renewals(session, now=now)
    done = Renewals()
    for subscription_id in due:
        async with unit() as session:
            await _renew(
                session=session,
                provider=provider,
                subscription_id=subscription_id,
                now=now,
                grace=grace,
                done=done,
            )
    return done


async def _renew(
    *,
    session: AsyncSession,
    provider: Recurring,
    subscription_id: uuid.UUID,
    now: datetime,
    grace: timedelta,
    done: Renewals,
) -> None:
    subscription = await repository.lock_subscription(session, subscription_id)
    if subscription is None or subscription.id not in set(
        await repository.due_renewals(session, now=now)
    ):
        return  # another run holds it, or renewed it meanwhile
    if await repository.pending_renewal(session, subscription.id):
        done.waiting += 1
        return
    with acting_as(subscription.user_id):
        if now >= subscription.current_period_end + grace:
            await _expire(session=session, subscription=subscription)
            done.expired += 1
            return
        await _charge(session=session, provider=provider, subscription=subscription, now=now)
    status = subscription.status
    if status == "past_due" and now >= subscription.current_period_end + grace:
        await _expire(session=session, subscription=subscription)
        done.expired += 1
    elif subscription.current_period_end > now:
        done.renewed += 1
    elif status == "past_due":
        done.declined += 1
    else:
        done.waiting += 1


async def _charge(
    *, session: AsyncSession, provider: Recurring, subscription: Subscription, now: datetime
) -> None:
    assert subscription.payment_method_id is not None
    plan = await repository.get_plan_by_id(session, subscription.plan_id)
    assert plan is not None
    payment = Payment(
        user_id=subscription.user_id,
        provider=provider.name,
        plan_id=plan.id,
        subscription_id=subscription.id,
        amount_minor=plan.price_minor,
        currency=plan.currency,
    )
    period = subscription.current_period_end
    key = f"renew-{subscription.id}-{period:%Y%m%dT%H%M%S}-{now:%Y%m%d}"
    order = Order(
        payment_id=payment.id,
        user_id=payment.user_id,
        title=plan.title,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        return_url="",
        period=plan.period,
    )
    provider_payment_id, report = await provider.charge(
        order=order, payment_method_id=subscription.payment_method_id, key=key
    )
    if await repository.get_payment(session, report.payment_id) is None:
        # First sight of this charge (a retry after a crash carries the lost row's id).
        payment.provider_payment_id = provider_payment_id
        session.add(payment)
        await session.flush()
        report = replace(report, payment_id=payment.id)
    await settle.apply(session=session, provider=provider, report=report)


async def _expire(*, session: AsyncSession, subscription: Subscription) -> None:
    """Unpaid past the grace: over, and the saved method is not charged again."""
    await settle.end_subscription(session=session, subscription=subscription, status="expired")
    subscription.payment_method_id = None
    await session.flush()
