"""``analytics.question_items`` reads each attempt's latest result version (DECISIONS 15).

Before, it read right/wrong from the answer snapshot graded at submission
(``quiz_attempts.details``), so a regrade that corrected a key left every question's
difficulty and discrimination as the wrong key had made them, while ``quiz_summary`` and
the quiz-passed rule already followed the regrade. Now it reads ``question_points`` and
the score of each attempt's latest version (``quiz_attempt_results``, migration 0035):
version 1 is the submission's grading, so nothing changes for a quiz never regraded. The
columns are the same; ``question_items_mat`` is refreshed.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-09 17:00:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUESTION_ITEMS = """
    WITH answers AS (
      SELECT a.quiz_content_id AS quiz_id, q.question_id, q.correct,
             (a.score / nullif(a.max_score, 0))::float8 AS total
      FROM quiz_attempt_results a
      JOIN analytics.learners l ON l.user_id = a.user_id AND l.counted,
           jsonb_to_recordset(a.question_points) AS q(question_id text, correct boolean)
      WHERE a.submitted_at IS NOT NULL AND a.deleted_at IS NULL
    )
    SELECT quiz_id, question_id, count(*) AS answers,
           round(count(*) FILTER (WHERE correct)::numeric / nullif(count(correct), 0), 4)
             AS difficulty,
           round(corr(correct::int::float8, total)::numeric, 4) AS discrimination
    FROM answers GROUP BY quiz_id, question_id
"""


def _replace(query: str) -> None:
    op.execute(f"CREATE OR REPLACE VIEW analytics.question_items AS {query}")
    op.execute("REFRESH MATERIALIZED VIEW analytics.question_items_mat")


def upgrade() -> None:
    _replace(QUESTION_ITEMS)


def downgrade() -> None:
    aggregates: dict[str, str] = context.script.get_revision("0018").module.AGGREGATES
    _replace(aggregates["question_items"])
