"""Commerce queries (PostgreSQL only)."""

import uuid
from datetime import datetime

from sqlalchemy import String, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import Category, Course
from syllabus.commerce.models import Payment, PaymentEvent, Plan, Subscription
from syllabus.kit.ids import uuid7


async def list_plans(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[tuple[Plan, str | None]]:
    """Live plans with their category's slug, by code, ``limit + 1``."""
    query = (
        select(Plan, col(Category.slug))
        .outerjoin(Category, col(Category.id) == col(Plan.category_id))
        .order_by(col(Plan.code))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(col(Plan.code) > after)
    return [(plan, slug) for plan, slug in (await session.execute(query)).all()]


async def get_plan(session: AsyncSession, code: str) -> tuple[Plan, str | None] | None:
    query = (
        select(Plan, col(Category.slug))
        .outerjoin(Category, col(Category.id) == col(Plan.category_id))
        .where(col(Plan.code) == code)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def category_id(session: AsyncSession, slug: str) -> uuid.UUID | None:
    query = select(col(Category.id)).where(col(Category.slug) == slug)
    return (await session.execute(query)).scalar()


async def insert_plan(session: AsyncSession, values: dict[str, object]) -> Plan | None:
    """A new plan, or None when the code is taken (retired plans keep theirs)."""
    statement = insert(Plan).values(id=uuid7(), **values).on_conflict_do_nothing()
    result = await session.execute(select(Plan).from_statement(statement.returning(Plan)))
    return result.scalar()


async def insert_pending(session: AsyncSession, payment: Payment) -> Payment | None:
    """A new pending payment, or None when the learner has one pending for the same
    course or plan (the partial unique index decides, so parallel checkouts cannot both
    win: the loser waits for the winner's commit, then finds its row)."""
    values = payment.model_dump(
        include={"id", "user_id", "provider", "course_id", "plan_id", "amount_minor", "currency"}
    )
    statement = insert(Payment).values(**values).on_conflict_do_nothing().returning(Payment)
    return (await session.execute(select(Payment).from_statement(statement))).scalar()


async def pending_for(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    course_id: uuid.UUID | None,
    plan_id: uuid.UUID | None,
) -> Payment | None:
    query = select(Payment).where(
        col(Payment.user_id) == user_id,
        col(Payment.status) == "pending",
        col(Payment.course_id) == course_id if course_id else col(Payment.plan_id) == plan_id,
    )
    return (await session.execute(query)).scalar()


async def lock_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    """The payment, its row locked to the end of the transaction: the events about one
    payment are applied one after another, whatever order they arrive in."""
    query = select(Payment).where(col(Payment.id) == payment_id).with_for_update()
    return (await session.execute(query, execution_options={"populate_existing": True})).scalar()


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.get(Payment, payment_id)


async def list_payments(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    user_id: uuid.UUID | None = None,
    status: str | None = None,
    provider: str | None = None,
    flagged: bool | None = None,
) -> list[Payment]:
    """Payments newest first (keyset on the time-ordered id), ``limit + 1``."""
    query = select(Payment).order_by(col(Payment.id).desc()).limit(limit + 1)
    if after is not None:
        query = query.where(col(Payment.id) < after)
    if user_id is not None:
        query = query.where(col(Payment.user_id) == user_id)
    if status is not None:
        query = query.where(col(Payment.status) == status)
    if provider is not None:
        query = query.where(col(Payment.provider) == provider)
    if flagged is not None:
        query = query.where(
            col(Payment.flag).is_not(None) if flagged else col(Payment.flag).is_(None)
        )
    return list((await session.execute(query)).scalars())


async def item_names(session: AsyncSession, payments: list[Payment]) -> dict[uuid.UUID, str]:
    """``course:…`` ids and plan codes of the payments' items, by internal key."""
    courses = {p.course_id for p in payments if p.course_id}
    plans = {p.plan_id for p in payments if p.plan_id}
    names: dict[uuid.UUID, str] = {}
    if courses:
        rows = await session.execute(
            select(col(Course.id), col(Course.content_id)).where(col(Course.id).in_(courses))
        )
        names |= {row[0]: row[1] for row in rows}
    if plans:
        rows = await session.execute(
            select(col(Plan.id), col(Plan.code))
            .where(col(Plan.id).in_(plans))
            .execution_options(include_deleted=True)
        )
        names |= {row[0]: row[1] for row in rows}
    return names


async def get_plan_by_id(session: AsyncSession, plan_id: uuid.UUID) -> Plan | None:
    query = select(Plan).where(col(Plan.id) == plan_id).execution_options(include_deleted=True)
    return (await session.execute(query)).scalar()


async def insert_event(
    session: AsyncSession, *, provider: str, event_id: str, type: str, payload: dict[str, object]
) -> None:
    """Keep a notification as received; a duplicate (same provider and id) is ignored."""
    statement = (
        insert(PaymentEvent)
        .values(id=uuid7(), provider=provider, event_id=event_id, type=type, payload=payload)
        .on_conflict_do_nothing()
    )
    await session.execute(statement)


async def lock_event(session: AsyncSession, *, provider: str, event_id: str) -> PaymentEvent:
    """The stored notification, locked: two deliveries of one event process it once."""
    query = (
        select(PaymentEvent)
        .where(col(PaymentEvent.provider) == provider, col(PaymentEvent.event_id) == event_id)
        .with_for_update()
    )
    return (
        await session.execute(query, execution_options={"populate_existing": True})
    ).scalar_one()


async def unprocessed_events(session: AsyncSession, *, since: datetime) -> list[tuple[str, str]]:
    """(provider, event id) of notifications stored since ``since`` whose processing
    failed and was never finished, oldest first."""
    query = (
        select(col(PaymentEvent.provider), col(PaymentEvent.event_id))
        .where(col(PaymentEvent.processed_at).is_(None), col(PaymentEvent.created_at) >= since)
        .order_by(col(PaymentEvent.created_at))
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def payments_to_reconcile(session: AsyncSession, *, since: datetime) -> list[uuid.UUID]:
    """Payments created since ``since`` that a provider can still move, oldest first."""
    query = (
        select(col(Payment.id))
        .where(
            col(Payment.created_at) >= since,
            col(Payment.provider_payment_id).is_not(None),
            col(Payment.status).in_(("pending", "succeeded", "partially_refunded", "canceled")),
        )
        .order_by(col(Payment.id))
    )
    return list((await session.execute(query)).scalars())


async def subscriptions_to_reconcile(session: AsyncSession, *, since: datetime) -> list[uuid.UUID]:
    """Live subscriptions, and those that ended since ``since`` (still billed there?)."""
    query = (
        select(col(Subscription.id))
        .where(
            col(Subscription.status).in_(("active", "past_due"))
            | (col(Subscription.updated_at) >= since)
        )
        .order_by(col(Subscription.id))
    )
    return list((await session.execute(query)).scalars())


async def get_subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def subscription_by_provider_id(
    session: AsyncSession, *, provider: str, provider_subscription_id: str
) -> Subscription | None:
    query = (
        select(Subscription)
        .where(
            col(Subscription.provider) == provider,
            col(Subscription.provider_subscription_id) == provider_subscription_id,
        )
        .with_for_update()
    )
    return (await session.execute(query, execution_options={"populate_existing": True})).scalar()


async def subscriptions_of(
    session: AsyncSession, *, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[tuple[Subscription, str]]:
    """The user's subscriptions with their plan codes, newest first, ``limit + 1``."""
    query = (
        select(Subscription, col(Plan.code))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(col(Subscription.user_id) == user_id)
        .order_by(col(Subscription.id).desc())
        .limit(limit + 1)
        .execution_options(include_deleted=True)
    )
    if after is not None:
        query = query.where(col(Subscription.id) < after)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def live_subscription(
    session: AsyncSession, *, user_id: uuid.UUID, plan_id: uuid.UUID
) -> Subscription | None:
    """An active (or past due, still in its period) subscription of the user to the plan."""
    query = select(Subscription).where(
        col(Subscription.user_id) == user_id,
        col(Subscription.plan_id) == plan_id,
        col(Subscription.status).in_(("active", "past_due")),
        col(Subscription.current_period_end) > func.statement_timestamp(),
    )
    return (await session.execute(query)).scalars().first()


async def subscription_of(
    session: AsyncSession, *, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> tuple[Subscription, str] | None:
    """One of the user's subscriptions, locked, with its plan's code."""
    query = (
        select(Subscription, col(Plan.code))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(col(Subscription.id) == subscription_id, col(Subscription.user_id) == user_id)
        .with_for_update(of=Subscription)
        .execution_options(include_deleted=True)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def pending_payments_of(session: AsyncSession, *, user_id: uuid.UUID) -> list[Payment]:
    query = (
        select(Payment)
        .where(col(Payment.user_id) == user_id, col(Payment.status) == "pending")
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


async def live_subscriptions_of(session: AsyncSession, *, user_id: uuid.UUID) -> list[Subscription]:
    query = (
        select(Subscription)
        .where(
            col(Subscription.user_id) == user_id,
            col(Subscription.status).in_(("active", "past_due")),
        )
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


async def references_of(session: AsyncSession, *, user_id: uuid.UUID) -> set[str]:
    """The ids a provider's notification about the user's payments can carry: ours, the
    provider's payment and subscription ids."""
    payments = await session.execute(
        select(col(Payment.id), col(Payment.provider_payment_id))
        .where(col(Payment.user_id) == user_id)
        .execution_options(include_deleted=True)
    )
    subscriptions = await session.execute(
        select(col(Subscription.provider_subscription_id))
        .where(col(Subscription.user_id) == user_id)
        .execution_options(include_deleted=True)
    )
    found = {str(id) for row in payments.all() for id in row if id is not None}
    return found | set(subscriptions.scalars())


async def events_mentioning(session: AsyncSession, references: set[str]) -> list[PaymentEvent]:
    """Stored notifications whose payload names one of ``references`` (a scan: erasure
    is rare, and a notification may carry an id anywhere in its payload)."""
    if not references:
        return []
    text_of = func.cast(col(PaymentEvent.payload), String)
    query = (
        select(PaymentEvent)
        .where(or_(*(text_of.contains(reference) for reference in sorted(references))))
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


async def due_renewals(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """Subscriptions with a saved payment method whose paid period has ended and that
    are still to be renewed (not cancelled at period end, not ended)."""
    query = (
        select(col(Subscription.id))
        .where(
            col(Subscription.payment_method_id).is_not(None),
            col(Subscription.status).in_(("active", "past_due")),
            col(Subscription.cancel_at_period_end).is_(False),
            col(Subscription.current_period_end) <= now,
            col(Subscription.deleted_at).is_(None),
        )
        .order_by(col(Subscription.current_period_end))
    )
    return list((await session.execute(query)).scalars())


async def lock_subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> Subscription | None:
    """The subscription, locked; None when another run holds it (that run renews it)."""
    query = (
        select(Subscription)
        .where(col(Subscription.id) == subscription_id)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query, execution_options={"populate_existing": True})).scalar()


async def pending_renewal(session: AsyncSession, subscription_id: uuid.UUID) -> bool:
    query = select(col(Payment.id)).where(
        col(Payment.subscription_id) == subscription_id, col(Payment.status) == "pending"
    )
    return (await session.execute(query.limit(1))).first() is not None
