"""Entitlements: the one record of who may open which paid course, and until when.

Written by ``commerce`` (purchases, subscriptions) and by admins (grants, admin
enrollments); read only by this package's rule (DECISIONS 4). A row names one course,
or a scope (``course_id`` NULL: every paid course, or the paid courses of
``category_id``) for a subscription. Nothing is deleted: a refund or an admin revokes
(``revoked_at``), a lapsed subscription ends (``ends_at``), so the history stays."""

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import CheckConstraint, DateTime, Index, text
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.vocabulary import sql_in, values

EntitlementSource = Literal["purchase", "subscription", "admin"]


class Entitlement(Base, table=True):
    __tablename__ = "entitlements"
    __table_args__ = (
        CheckConstraint(sql_in("source", values(EntitlementSource)), name="source"),
        # A purchase or an admin grant is for one course; only a subscription has a scope.
        CheckConstraint(
            "source = 'subscription' OR (course_id IS NOT NULL AND category_id IS NULL)",
            name="scope",
        ),
        CheckConstraint("(source = 'purchase') = (payment_id IS NOT NULL)", name="payment"),
        CheckConstraint(
            "(source = 'subscription') = (subscription_id IS NOT NULL)", name="subscription"
        ),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="period"),
        # One entitlement per payment and per subscription: a replayed event finds it.
        Index("uq_entitlements_payment_id", "payment_id", unique=True),
        Index("uq_entitlements_subscription_id", "subscription_id", unique=True),
        # At most one live admin grant per learner and course: granting twice is a no-op.
        Index(
            "uq_entitlements_user_id_course_id_admin",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=text("source = 'admin' AND revoked_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    source: str
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    category_id: uuid.UUID | None = Field(default=None, foreign_key="categories.id", index=True)
    # The rows that pay for it live in ``commerce`` (a higher layer): named by table.
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payments.id")
    subscription_id: uuid.UUID | None = Field(default=None, foreign_key="subscriptions.id")
    starts_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    ends_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
