"""Homework analytics ([6/8]): ``analytics.homework_turnaround``, per UTC week of
submission, course and practice: submissions, how many were reviewed or returned, how
many still await a teacher, and the median and mean hours from submitted to reviewed
(or returned). Counted learners only (``analytics.learners.counted``), no personal
data: no learner, no reviewer, no text. Documented in docs/analytics.md.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-09 15:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOURS = "extract(epoch FROM s.reviewed_at - s.submitted_at) / 3600"
VIEW = f"""
    SELECT date_trunc('week', s.submitted_at AT TIME ZONE 'UTC')::date AS week,
           c.content_id AS course_id, s.practice_content_id AS practice_id,
           count(*) AS submitted,
           count(*) FILTER (WHERE s.status = 'reviewed') AS reviewed,
           count(*) FILTER (WHERE s.status = 'returned') AS returned,
           count(*) FILTER (WHERE s.status IN ('submitted', 'in_review')) AS awaiting,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY {HOURS}))::numeric, 2)
             AS median_hours_to_review,
           round(avg({HOURS})::numeric, 2) AS mean_hours_to_review
    FROM submissions s
    JOIN courses c ON c.id = s.course_id
    JOIN analytics.learners l ON l.user_id = s.user_id AND l.counted
    WHERE s.submitted_at IS NOT NULL AND s.deleted_at IS NULL
    GROUP BY 1, 2, 3
"""


def upgrade() -> None:
    op.execute(f"CREATE VIEW analytics.homework_turnaround AS {VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW analytics.homework_turnaround")
