"""Commerce analytics ([4/8]): two aggregate views over ``payments``, no personal data
(no user ids, no provider ids). Documented in docs/analytics.md.

- ``analytics.revenue_daily``: per UTC day of payment, item (course or plan), provider
  and currency: payments paid, gross, refunded so far and net, in minor units; a flagged
  payment (the provider reported another amount or currency, nothing granted) is counted
  apart and left out of the sums;
- ``analytics.checkout_funnel``: per item, provider and currency: checkouts started,
  still pending, failed or cancelled, paid, refunded in full or in part, the distinct
  buyers at each step, and the rates between them.

Every account's payments count, staff and erased ones included: money taken is revenue
whoever paid it (an erased account's payments are kept for accounting, docs/payments.md).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-09 08:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEM = """
    CASE WHEN p.course_id IS NOT NULL THEN 'course' ELSE 'plan' END AS item_type,
    c.content_id AS course_id, pl.code AS plan_code
"""
ITEMS = """
    FROM payments p
    LEFT JOIN courses c ON c.id = p.course_id
    LEFT JOIN plans pl ON pl.id = p.plan_id
"""
VIEWS = {
    "revenue_daily": f"""
        SELECT (p.paid_at AT TIME ZONE 'UTC')::date AS day, {ITEM},
               p.provider, p.currency,
               count(*) FILTER (WHERE p.flag IS NULL) AS payments,
               coalesce(sum(p.amount_minor) FILTER (WHERE p.flag IS NULL), 0) AS gross_minor,
               coalesce(sum(p.refunded_minor) FILTER (WHERE p.flag IS NULL), 0)
                 AS refunded_minor,
               coalesce(sum(p.amount_minor - p.refunded_minor) FILTER (WHERE p.flag IS NULL), 0)
                 AS net_minor,
               count(*) FILTER (WHERE p.flag IS NOT NULL) AS flagged
        {ITEMS}
        WHERE p.paid_at IS NOT NULL AND p.deleted_at IS NULL
        GROUP BY 1, 2, 3, 4, p.provider, p.currency
    """,
    "checkout_funnel": f"""
        SELECT {ITEM}, p.provider, p.currency,
               count(*) AS started,
               count(*) FILTER (WHERE p.status = 'pending') AS pending,
               count(*) FILTER (WHERE p.status IN ('failed', 'canceled')) AS not_paid,
               count(*) FILTER (WHERE p.paid_at IS NOT NULL) AS paid,
               count(*) FILTER (WHERE p.status = 'partially_refunded') AS partially_refunded,
               count(*) FILTER (WHERE p.status = 'refunded') AS refunded,
               count(DISTINCT p.user_id) AS buyers_started,
               count(DISTINCT p.user_id) FILTER (WHERE p.paid_at IS NOT NULL) AS buyers_paid,
               round(count(*) FILTER (WHERE p.paid_at IS NOT NULL)::numeric / count(*), 4)
                 AS paid_rate,
               round(count(*) FILTER (WHERE p.status = 'refunded')::numeric
                     / nullif(count(*) FILTER (WHERE p.paid_at IS NOT NULL), 0), 4)
                 AS refund_rate
        {ITEMS}
        WHERE p.deleted_at IS NULL
        GROUP BY 1, 2, 3, p.provider, p.currency
    """,
}


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW analytics.{name}")
