"""A bookmark or a note without starting the lesson ([1/8] item 30, DECISIONS 13):
``lesson_progress.status`` may be null (saved, not started) and ``started_at`` records
when the lesson was started, set once by the write that first gives a status (that
write, and only it, records the ``started`` event, so a bookmark alone neither starts
the lesson nor counts toward a streak). Existing rows were all started: ``started_at``
is their ``created_at``.

The analytics views that count starts (``course_funnel.started``,
``lesson_completion.started``) now count rows with a status only; their columns are
unchanged.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-09 03:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTED_CHECK = "(status IS NULL) = (started_at IS NULL)"
COMPLETED_CHECK = "coalesce(status = 'completed', false) = (completed_at IS NOT NULL)"
OLD_COMPLETED_CHECK = "(status = 'completed') = (completed_at IS NOT NULL)"


def _views() -> dict[str, str]:
    """The two views as 0018 (analysts' dimensions) last defined them."""
    views: dict[str, str] = context.script.get_revision("0018").module.AGGREGATES
    return {name: views[name] for name in ("course_funnel", "lesson_completion")}


STARTED_ONLY = {
    "course_funnel": (
        "WHERE p.deleted_at IS NULL GROUP BY p.course_id",
        "WHERE p.status IS NOT NULL AND p.deleted_at IS NULL GROUP BY p.course_id",
    ),
    "lesson_completion": (
        "count(p.id) AS started,",
        "count(p.id) FILTER (WHERE p.status IS NOT NULL) AS started,",
    ),
}


def upgrade() -> None:
    op.add_column(
        "lesson_progress", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE lesson_progress SET started_at = created_at")
    op.alter_column("lesson_progress", "status", nullable=True, server_default=None)
    op.drop_constraint(op.f("ck_lesson_progress_completed_at"), "lesson_progress", type_="check")
    op.create_check_constraint(
        op.f("ck_lesson_progress_completed_at"), "lesson_progress", COMPLETED_CHECK
    )
    op.create_check_constraint(op.f("ck_lesson_progress_started"), "lesson_progress", STARTED_CHECK)
    for name, query in _views().items():
        old, new = STARTED_ONLY[name]
        assert old in query, name
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {query.replace(old, new)}")


def downgrade() -> None:
    for name, query in _views().items():
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {query}")
    op.drop_constraint(op.f("ck_lesson_progress_started"), "lesson_progress", type_="check")
    op.execute("UPDATE lesson_progress SET status = 'started' WHERE status IS NULL")
    op.drop_constraint(op.f("ck_lesson_progress_completed_at"), "lesson_progress", type_="check")
    op.create_check_constraint(
        op.f("ck_lesson_progress_completed_at"), "lesson_progress", OLD_COMPLETED_CHECK
    )
    op.alter_column("lesson_progress", "status", nullable=False, server_default="started")
    op.drop_column("lesson_progress", "started_at")
