"""Commerce tables: plans, payments, the provider events received, subscriptions.

Money is an integer of minor units (cents, kopecks) with its ISO 4217 currency; a
payment snapshots the amount and currency it was created for, so a later price change
never alters what was agreed, and a provider reporting something else grants nothing.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.standards import CURRENCY_PATTERN
from syllabus.kit.vocabulary import sql_in, values

Provider = Literal["stripe", "yookassa", "sandbox"]
PlanPeriod = Literal["month", "year"]
PaymentStatus = Literal[
    "pending", "succeeded", "failed", "canceled", "refunded", "partially_refunded"
]
SubscriptionStatus = Literal["active", "past_due", "canceled", "expired"]

CURRENCY_CHECK = f"currency ~ '{CURRENCY_PATTERN}'"


class Plan(Base, table=True):
    """A subscription plan, defined by admins (docs/payments.md says why not content).
    Retired plans are soft-deleted: payments and subscriptions keep pointing at them."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(f"code ~ '^{SLUG_PATTERN}$'", name="code"),
        CheckConstraint("price_minor > 0", name="price_minor"),
        CheckConstraint(CURRENCY_CHECK, name="currency"),
        CheckConstraint(sql_in("period", values(PlanPeriod)), name="period"),
    )

    code: str = Field(unique=True)
    title: str
    price_minor: int
    currency: str
    period: str
    # The paid courses it opens: those of one category, or (NULL) every paid course.
    category_id: uuid.UUID | None = Field(default=None, foreign_key="categories.id", index=True)


class Payment(Base, table=True):
    """One checkout: created pending, settled by the provider's events."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(sql_in("provider", values(Provider)), name="provider"),
        CheckConstraint(sql_in("status", values(PaymentStatus)), name="status"),
        CheckConstraint("(course_id IS NULL) <> (plan_id IS NULL)", name="one_item"),
        CheckConstraint("amount_minor > 0", name="amount_minor"),
        CheckConstraint(CURRENCY_CHECK, name="currency"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunded_minor"
        ),
        UniqueConstraint("provider", "provider_payment_id"),
        # Two simultaneous checkouts of one thing by one learner give one pending payment.
        Index(
            "uq_payments_user_id_item_pending",
            "user_id",
            text("coalesce(course_id, plan_id)"),
            unique=True,
            postgresql_where=text("status = 'pending' AND deleted_at IS NULL"),
        ),
        Index("ix_payments_user_id_id", "user_id", "id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")  # leads the composite index
    provider: str
    provider_payment_id: str | None = None
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="plans.id", index=True)
    amount_minor: int
    currency: str
    status: str = Field(default="pending", sa_column_kwargs={"server_default": "pending"})
    refunded_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    confirmation_url: str | None = None
    flag: str | None = Field(
        default=None,
        description="Why a provider's report was not acted on (amount or currency differs).",
    )
    paid_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    subscription_id: uuid.UUID | None = Field(
        default=None,
        foreign_key="subscriptions.id",
        index=True,
        description="The subscription a renewal charge renews (YooKassa recurring payments).",
    )


class PaymentEvent(Base, table=True):
    """Every webhook received, kept as sent: stored (and committed) before it is acted
    on, processed once (``processed_at``), so a duplicate changes nothing and a crash in
    between is finished by the provider's next delivery of it."""

    __tablename__ = "payment_events"
    __table_args__ = (
        CheckConstraint(sql_in("provider", values(Provider)), name="provider"),
        UniqueConstraint("provider", "event_id"),
        Index(
            "ix_payment_events_unprocessed",
            "created_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    provider: str
    event_id: str
    type: str
    payload: dict[str, Any] = Field(sa_type=JSONB)
    processed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Subscription(Base, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(sql_in("provider", values(Provider)), name="provider"),
        CheckConstraint(sql_in("status", values(SubscriptionStatus)), name="status"),
        UniqueConstraint("provider", "provider_subscription_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    plan_id: uuid.UUID = Field(foreign_key="plans.id", index=True)
    provider: str
    provider_subscription_id: str
    status: str = Field(default="active", sa_column_kwargs={"server_default": "active"})
    current_period_end: datetime = Field(sa_type=DateTime(timezone=True))
    cancel_at_period_end: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    # When the provider stated the status above: an older event never overwrites it.
    state_at: datetime = Field(sa_type=DateTime(timezone=True))
    # YooKassa's saved payment method (``payment_method.id``), charged at each renewal.
    payment_method_id: str | None = None
