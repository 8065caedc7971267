"""Reading payments and subscriptions, refunds and cancellations. Services never commit."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import repository, settle
from syllabus.commerce.models import Payment
from syllabus.commerce.providers.base import Provider, ProviderUnavailable
from syllabus.commerce.schemas import AdminPaymentPublic, PaymentPublic, SubscriptionPublic
from syllabus.db.activity import record_activity
from syllabus.errors import Conflict, NotFound, UnprocessableContent
from syllabus.identity.models import User


class NotRefundable(Conflict):
    """Refunding a payment that has not succeeded, is refunded in full already, or for
    more than is left of it (``refundable_minor`` says how much is)."""

    title = "Not refundable"
    code = "not-refundable"


class SubscriptionNotActive(Conflict):
    """Cancelling a subscription that is cancelled or expired already."""

    title = "Subscription not active"
    code = "subscription-not-active"


class ProviderGone(UnprocessableContent):
    """The payment's provider is no longer configured here, so it cannot be asked."""

    title = "Provider not configured"
    code = "provider-gone"


async def _public(session: AsyncSession, payments: list[Payment]) -> list[PaymentPublic]:
    names = await repository.item_names(session, payments)
    return [
        PaymentPublic(
            id=p.id,
            provider=p.provider,
            course_id=names.get(p.course_id) if p.course_id else None,
            plan_code=names.get(p.plan_id) if p.plan_id else None,
            amount_minor=p.amount_minor,
            currency=p.currency,
            status=p.status,
            refunded_minor=p.refunded_minor,
            created_at=p.created_at,
            paid_at=p.paid_at,
        )
        for p in payments
    ]


async def _admin_public(session: AsyncSession, payments: list[Payment]) -> list[AdminPaymentPublic]:
    public = await _public(session, payments)
    return [
        AdminPaymentPublic(
            **item.model_dump(),
            user_id=p.user_id,
            provider_payment_id=p.provider_payment_id,
            flag=p.flag,
        )
        for item, p in zip(public, payments, strict=True)
    ]


async def my_payments(
    *, session: AsyncSession, user: User, after: uuid.UUID | None, limit: int
) -> list[PaymentPublic]:
    rows = await repository.list_payments(session, user_id=user.id, after=after, limit=limit)
    return await _public(session, rows)


async def my_payment(*, session: AsyncSession, user: User, payment_id: uuid.UUID) -> PaymentPublic:
    """One of mine; another's reads like none (404)."""
    payment = await repository.get_payment(session, payment_id)
    if payment is None or payment.user_id != user.id:
        raise NotFound("no such payment of yours", field="payment_id")
    return (await _public(session, [payment]))[0]


async def admin_payments(
    *,
    session: AsyncSession,
    after: uuid.UUID | None,
    limit: int,
    user_id: uuid.UUID | None,
    status: str | None,
    provider: str | None,
    flagged: bool | None,
) -> list[AdminPaymentPublic]:
    rows = await repository.list_payments(
        session,
        after=after,
        limit=limit,
        user_id=user_id,
        status=status,
        provider=provider,
        flagged=flagged,
    )
    return await _admin_public(session, rows)


async def refund(
    *,
    session: AsyncSession,
    providers: dict[str, Provider],
    admin: User,
    payment_id: uuid.UUID,
    amount_minor: int | None,
) -> AdminPaymentPublic:
    """Ask the provider to refund (all that is left, or ``amount_minor``). The payment
    changes when the provider's notification says the refund happened, as any other
    change does (the sandbox answers at once, so its refund is settled here)."""
    payment = await repository.lock_payment(session, payment_id)
    if payment is None:
        raise NotFound("no such payment", field="payment_id")
    left = payment.amount_minor - payment.refunded_minor
    amount = amount_minor if amount_minor is not None else left
    if payment.status not in ("succeeded", "partially_refunded") or not 0 < amount <= left:
        raise NotRefundable(
            f"a {payment.status} payment with {left} {payment.currency} left cannot refund "
            f"{amount}",
            refundable_minor=left if payment.status in ("succeeded", "partially_refunded") else 0,
        )
    provider = providers.get(payment.provider)
    if provider is None or payment.provider_payment_id is None:
        raise ProviderGone(f"{payment.provider} is not configured here", field="payment_id")
    delivery = await provider.refund(
        provider_payment_id=payment.provider_payment_id,
        amount_minor=amount,
        total_after=payment.refunded_minor + amount,
        currency=payment.currency,
    )
    await record_activity(
        session,
        actor_id=admin.id,
        verb="refunded",
        object_type="payment",
        object_id=str(payment.id),
        course_id=payment.course_id,
        result={"requested_minor": amount, "currency": payment.currency},
    )
    if delivery is not None:
        await settle.receive(
            session=session,
            provider=provider,
            body=delivery.body,
            headers=delivery.headers,
            client=None,
        )
    await session.refresh(payment)
    return (await _admin_public(session, [payment]))[0]


async def my_subscriptions(
    *, session: AsyncSession, user: User, after: uuid.UUID | None, limit: int
) -> list[SubscriptionPublic]:
    rows = await repository.subscriptions_of(session, user_id=user.id, after=after, limit=limit)
    return [
        SubscriptionPublic(
            id=s.id,
            plan_code=code,
            provider=s.provider,
            status=s.status,
            current_period_end=s.current_period_end,
            cancel_at_period_end=s.cancel_at_period_end,
        )
        for s, code in rows
    ]


async def cancel_subscription(
    *,
    session: AsyncSession,
    providers: dict[str, Provider],
    user: User,
    subscription_id: uuid.UUID,
) -> SubscriptionPublic:
    """At the period's end: access runs to it, nothing is billed after it."""
    rows = await repository.subscriptions_of(session, user_id=user.id, after=None, limit=1_000_000)
    found = next(((s, code) for s, code in rows if s.id == subscription_id), None)
    if found is None:
        raise NotFound("no such subscription of yours", field="subscription_id")
    subscription, code = found
    if subscription.status not in ("active", "past_due"):
        raise SubscriptionNotActive(f"a {subscription.status} subscription cannot be cancelled")
    if not subscription.cancel_at_period_end:
        provider = providers.get(subscription.provider)
        if provider is None:
            raise ProviderUnavailable(f"{subscription.provider} is not configured here")
        await provider.cancel_at_period_end(subscription.provider_subscription_id)
        subscription.cancel_at_period_end = True
        await session.flush()
    return SubscriptionPublic(
        id=subscription.id,
        plan_code=code,
        provider=subscription.provider,
        status=subscription.status,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=True,
    )
