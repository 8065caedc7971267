"""YooKassa recurring payments ([4/8]): a subscription keeps the saved payment method
YooKassa returned for its first payment (``payment_method.id``), which the renewal step
(``syllabus payments renew-due``) charges each period; a renewal payment points at the
subscription it renews.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-09 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("payment_method_id", sa.String(), nullable=True))
    op.add_column(
        "payments",
        sa.Column(
            "subscription_id",
            sa.Uuid(),
            sa.ForeignKey("subscriptions.id", name="fk_payments_subscription_id_subscriptions"),
            nullable=True,
        ),
    )
    op.create_index("ix_payments_subscription_id", "payments", ["subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_payments_subscription_id", table_name="payments")
    op.drop_column("payments", "subscription_id")
    op.drop_column("subscriptions", "payment_method_id")
