"""Faster SQL for ``question_items``, and a materialized twin of it and of
``streak_distribution``.

On the benchmark dataset (bench/dataset.py) both crossed the 2-second line of
docs/analytics.md, "At scale". ``question_items`` now reads each answer snapshot once
into typed columns (``jsonb_to_recordset``) instead of two ``->>`` per answer, and
computes difficulty as a count ratio, not a numeric ``avg``: same columns and results,
about a third faster, still over 2 s. ``streak_distribution`` is unchanged: rewrites
(run starts by ``lag`` and a running ``max``, with or without the DISTINCT) gave the same
results no faster, its time being the one sort of a million (learner, local day) rows.

So each gets a twin, ``analytics.<view>_mat`` (its rows plus ``refreshed_at``), with the
unique index that ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` needs (``syllabus analytics
refresh``). The live view stays: analysts choose current or fast. The twin selects from
the live view, so the two cannot drift apart.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:10:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FASTER: dict[str, str] = {
    "question_items": """
        WITH answers AS (
          SELECT a.quiz_content_id AS quiz_id, q.question_id, q.correct,
                 (a.score / nullif(a.max_score, 0))::float8 AS total
          FROM quiz_attempts a,
               jsonb_to_recordset(a.details->'questions') AS q(question_id text, correct boolean)
          WHERE a.submitted_at IS NOT NULL AND a.deleted_at IS NULL
        )
        SELECT quiz_id, question_id, count(*) AS answers,
               round(count(*) FILTER (WHERE correct)::numeric / nullif(count(correct), 0), 4)
                 AS difficulty,
               round(corr(correct::int::float8, total)::numeric, 4) AS discrimination
        FROM answers GROUP BY quiz_id, question_id
    """,
}
# each twin's key: one row per value, so REFRESH ... CONCURRENTLY can match old and new
TWIN_KEYS: dict[str, tuple[str, ...]] = {
    "question_items": ("quiz_id", "question_id"),
    "streak_distribution": ("streak_days",),
}


def _previous(name: str) -> str:
    """0006's definition of a view, read from that revision (a downgrade restores it)."""
    views: dict[str, str] = context.script.get_revision("0006").module.VIEWS
    return views[name]


def upgrade() -> None:
    for name, query in FASTER.items():
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {query}")
    for name, key in TWIN_KEYS.items():
        op.execute(
            f"CREATE MATERIALIZED VIEW analytics.{name}_mat AS "
            f"SELECT *, now() AS refreshed_at FROM analytics.{name}"
        )
        op.execute(f"CREATE UNIQUE INDEX ON analytics.{name}_mat ({', '.join(key)})")
        op.execute(
            f"COMMENT ON MATERIALIZED VIEW analytics.{name}_mat IS "
            f"'analytics.{name} as of refreshed_at: syllabus analytics refresh'"
        )


def downgrade() -> None:
    for name in TWIN_KEYS:
        op.execute(f"DROP MATERIALIZED VIEW analytics.{name}_mat")
    for name in FASTER:
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {_previous(name)}")
