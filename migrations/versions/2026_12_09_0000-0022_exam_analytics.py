"""Exam analytics ([5/8]): two aggregate views over the current result version of every
sealed attempt, counted learners only (not staff, not erased), no personal data.
Documented in docs/analytics.md.

- ``analytics.exam_results``: per exam and test score: attempts, learners, passed, and
  how many still await expert grading;
- ``analytics.exam_task_difficulty``: per exam, exam version and task number: graded
  attempts, the mean share of the task's points earned and the share that earned them
  all (from the sealed sheets and the current result versions).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 23:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = """
    current AS (
        SELECT DISTINCT ON (attempt_id) attempt_id, test_score, passed, final, task_points
        FROM exam_results ORDER BY attempt_id, version DESC
    )
"""
VIEWS = {
    "exam_results": f"""
        WITH {CURRENT}
        SELECT a.exam_content_id AS exam_id, c.test_score,
               count(*) AS attempts,
               count(DISTINCT a.user_id) AS learners,
               count(*) FILTER (WHERE c.passed) AS passed,
               count(*) FILTER (WHERE NOT c.final) AS awaiting_grading
        FROM exam_attempts a
        JOIN current c ON c.attempt_id = a.id
        JOIN analytics.learners l ON l.user_id = a.user_id AND l.counted
        WHERE a.deleted_at IS NULL
        GROUP BY a.exam_content_id, c.test_score
    """,
    "exam_task_difficulty": f"""
        WITH {CURRENT}
        SELECT a.exam_content_id AS exam_id, a.exam_version,
               (t.task ->> 'number')::int AS task,
               (t.task ->> 'max_points')::int AS max_points,
               count(*) AS attempts,
               round(avg((c.task_points ->> (t.task ->> 'number'))::numeric
                         / (t.task ->> 'max_points')::numeric), 4) AS mean_share,
               round(avg(((c.task_points ->> (t.task ->> 'number'))::numeric
                          = (t.task ->> 'max_points')::numeric)::int), 4) AS full_share
        FROM exam_attempts a
        JOIN current c ON c.attempt_id = a.id
        JOIN analytics.learners l ON l.user_id = a.user_id AND l.counted
        CROSS JOIN LATERAL jsonb_array_elements(a.sheet -> 'tasks') AS t(task)
        WHERE a.deleted_at IS NULL
          AND c.task_points ->> (t.task ->> 'number') IS NOT NULL
        GROUP BY a.exam_content_id, a.exam_version, t.task ->> 'number', t.task ->> 'max_points'
    """,
}


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW analytics.{name}")
