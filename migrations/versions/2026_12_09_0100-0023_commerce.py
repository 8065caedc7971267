"""Commerce ([4/8]): plans, payments, payment_events, subscriptions, and the
entitlements ``access`` decides paid access by (DECISIONS 4).

So that nobody loses access on deploy, every active or completed enrollment in a paid
course gets an admin entitlement (``created_by`` NULL: granted by this migration). The
activity log learns the verbs ``purchased``, ``refunded``, ``granted``, ``revoked`` and
the object types ``entitlement`` and ``payment``.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 01:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("plans", "payments", "payment_events", "subscriptions", "entitlements")
OLD_VERBS = (
    "registered",
    "enrolled",
    "started",
    "completed",
    "attempted",
    "passed",
    "failed",
    "earned",
    "cancelled",
)
VERBS = (*OLD_VERBS, "purchased", "refunded", "granted", "revoked")
OLD_OBJECT_TYPES = ("course", "lesson", "quiz", "practice", "achievement", "user")
OBJECT_TYPES = (*OLD_OBJECT_TYPES, "entitlement", "payment")

GRANT_ENROLLED = """
    INSERT INTO entitlements (user_id, source, course_id, starts_at)
    SELECT e.user_id, 'admin', e.course_id, e.enrolled_at
    FROM enrollments e JOIN courses c ON c.id = e.course_id
    WHERE e.status IN ('active', 'completed') AND e.deleted_at IS NULL
      AND coalesce(c.price_cents, 0) > 0
    ON CONFLICT DO NOTHING
"""


def _activity_words(verbs: tuple[str, ...], object_types: tuple[str, ...]) -> None:
    for column, words in (("verb", verbs), ("object_type", object_types)):
        listed = ", ".join(f"'{word}'" for word in words)
        name = f"ck_activity_log_{column}"
        op.drop_constraint(op.f(name), "activity_log", type_="check")
        op.create_check_constraint(op.f(name), "activity_log", f"{column} IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "provider IN ('stripe', 'yookassa', 'sandbox')", name=op.f("ck_payment_events_provider")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    op.create_index(
        "ix_payment_events_unprocessed",
        "payment_events",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("code ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_plans_code")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_plans_currency")),
        sa.CheckConstraint("period IN ('month', 'year')", name=op.f("ck_plans_period")),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_plans_price_minor")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_plans_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("provider_subscription_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="active", nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "provider IN ('stripe', 'yookassa', 'sandbox')", name=op.f("ck_subscriptions_provider")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'past_due', 'canceled', 'expired')",
            name=op.f("ck_subscriptions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_subscriptions_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_subscriptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "provider",
            "provider_subscription_id",
            name=op.f("uq_subscriptions_provider_provider_subscription_id"),
        ),
    )
    op.create_index(op.f("ix_subscriptions_user_id"), "subscriptions", ["user_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("provider_payment_id", sa.String(), nullable=True),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="pending", nullable=False),
        sa.Column("refunded_minor", sa.Integer(), server_default="0", nullable=False),
        sa.Column("confirmation_url", sa.String(), nullable=True),
        sa.Column("flag", sa.String(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_payments_currency")),
        sa.CheckConstraint(
            "provider IN ('stripe', 'yookassa', 'sandbox')", name=op.f("ck_payments_provider")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'canceled', 'refunded', 'partially_refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint(
            "(course_id IS NULL) <> (plan_id IS NULL)", name=op.f("ck_payments_one_item")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_minor")),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor",
            name=op.f("ck_payments_refunded_minor"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_payments_course_id_courses")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_payments_plan_id_plans")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name=op.f("uq_payments_provider_provider_payment_id")
        ),
    )
    op.create_index("ix_payments_user_id_id", "payments", ["user_id", "id"], unique=False)
    op.create_index(
        "uq_payments_user_id_item_pending",
        "payments",
        ["user_id", sa.literal_column("coalesce(course_id, plan_id)")],
        unique=True,
        postgresql_where=sa.text("status = 'pending' AND deleted_at IS NULL"),
    )
    op.create_table(
        "entitlements",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column(
            "starts_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(source = 'purchase') = (payment_id IS NOT NULL)", name=op.f("ck_entitlements_payment")
        ),
        sa.CheckConstraint(
            "(source = 'subscription') = (subscription_id IS NOT NULL)",
            name=op.f("ck_entitlements_subscription"),
        ),
        sa.CheckConstraint(
            "source = 'subscription' OR (course_id IS NOT NULL AND category_id IS NULL)",
            name=op.f("ck_entitlements_scope"),
        ),
        sa.CheckConstraint(
            "source IN ('purchase', 'subscription', 'admin')", name=op.f("ck_entitlements_source")
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_entitlements_period")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_entitlements_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_entitlements_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_entitlements_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_entitlements_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entitlements_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlements")),
    )
    op.create_index(op.f("ix_entitlements_user_id"), "entitlements", ["user_id"], unique=False)
    op.create_index("uq_entitlements_payment_id", "entitlements", ["payment_id"], unique=True)
    op.create_index(
        "uq_entitlements_subscription_id", "entitlements", ["subscription_id"], unique=True
    )
    op.create_index(
        "uq_entitlements_user_id_course_id_admin",
        "entitlements",
        ["user_id", "course_id"],
        unique=True,
        postgresql_where=sa.text("source = 'admin' AND revoked_at IS NULL AND deleted_at IS NULL"),
    )
    op.create_index(op.f("ix_plans_category_id"), "plans", ["category_id"], unique=False)
    op.create_index(op.f("ix_payments_course_id"), "payments", ["course_id"], unique=False)
    op.create_index(op.f("ix_payments_plan_id"), "payments", ["plan_id"], unique=False)
    op.create_index(op.f("ix_subscriptions_plan_id"), "subscriptions", ["plan_id"], unique=False)
    op.create_index(op.f("ix_entitlements_course_id"), "entitlements", ["course_id"], unique=False)
    op.create_index(
        op.f("ix_entitlements_category_id"), "entitlements", ["category_id"], unique=False
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    _activity_words(VERBS, OBJECT_TYPES)
    op.execute(GRANT_ENROLLED)


def downgrade() -> None:
    _activity_words(OLD_VERBS, OLD_OBJECT_TYPES)
    op.drop_index(
        "uq_entitlements_user_id_course_id_admin",
        table_name="entitlements",
        postgresql_where=sa.text("source = 'admin' AND revoked_at IS NULL AND deleted_at IS NULL"),
    )
    op.drop_index("uq_entitlements_subscription_id", table_name="entitlements")
    op.drop_index("uq_entitlements_payment_id", table_name="entitlements")
    op.drop_index(op.f("ix_entitlements_user_id"), table_name="entitlements")
    op.drop_table("entitlements")
    op.drop_index(
        "uq_payments_user_id_item_pending",
        table_name="payments",
        postgresql_where=sa.text("status = 'pending' AND deleted_at IS NULL"),
    )
    op.drop_index("ix_payments_user_id_id", table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_subscriptions_user_id"), table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("plans")
    op.drop_index(
        "ix_payment_events_unprocessed",
        table_name="payment_events",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("payment_events")
