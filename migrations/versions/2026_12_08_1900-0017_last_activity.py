"""One "last activity" for a learner in a course ([1/8] item 26): view
``course_activity`` (``progress``'s rule), read by the outline, ``GET
/users/me/progress`` and ``analytics.learner_course`` alike. Before, the outline took the
latest lesson-progress write or quiz submission, the other two only lesson progress.

The rule: the latest moment the learner wrote anything in the course: a lesson's
progress, position, bookmark or note (``lesson_progress.updated_at``), or a quiz attempt
started, autosaved or submitted (``quiz_attempts.updated_at``). Soft-deleted rows do not
count. No write yet: no row (the API answers ``null``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 19:00:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COURSE_ACTIVITY = """
    SELECT user_id, course_id, max(at) AS last_activity_at
    FROM (
      SELECT user_id, course_id, updated_at AS at FROM lesson_progress
      WHERE deleted_at IS NULL
      UNION ALL
      SELECT user_id, course_id, updated_at FROM quiz_attempts
      WHERE deleted_at IS NULL AND course_id IS NOT NULL
    ) AS writes
    GROUP BY user_id, course_id
"""

LEARNER_COURSE = """
    WITH progress AS (
      SELECT user_id, course_id,
             count(*) FILTER (WHERE status = 'completed') AS lessons_completed
      FROM lesson_progress WHERE deleted_at IS NULL GROUP BY user_id, course_id
    ), attempts AS (
      SELECT user_id, course_id, count(*) AS quiz_attempts
      FROM quiz_attempts WHERE submitted_at IS NOT NULL AND deleted_at IS NULL
      GROUP BY user_id, course_id
    ), required AS (
      SELECT course_id, count(*) AS required_items
      FROM content_index WHERE required AND status = 'active' AND deleted_at IS NULL
      GROUP BY course_id
    )
    SELECT e.user_id, c.content_id AS course_id, e.status AS enrollment_status,
           e.enrolled_at, e.completed_at,
           coalesce(p.lessons_completed, 0) AS lessons_completed,
           coalesce(r.required_items, 0) AS required_items,
           coalesce(a.quiz_attempts, 0) AS quiz_attempts,
           ca.last_activity_at,
           coalesce(cc.completed_required, 0) AS required_completed,
           coalesce(cc.percent_complete, 0) AS percent_complete
    FROM enrollments e JOIN courses c ON c.id = e.course_id
    LEFT JOIN progress p ON p.user_id = e.user_id AND p.course_id = e.course_id
    LEFT JOIN attempts a ON a.user_id = e.user_id AND a.course_id = e.course_id
    LEFT JOIN required r ON r.course_id = e.course_id
    LEFT JOIN course_completion cc ON cc.user_id = e.user_id AND cc.course_id = e.course_id
    LEFT JOIN course_activity ca ON ca.user_id = e.user_id AND ca.course_id = e.course_id
    WHERE e.deleted_at IS NULL
"""


def upgrade() -> None:
    op.execute(f"CREATE VIEW course_activity AS {COURSE_ACTIVITY}")
    op.execute(f"CREATE OR REPLACE VIEW analytics.learner_course AS {LEARNER_COURSE}")


def downgrade() -> None:
    analytics: dict[str, str] = context.script.get_revision("0009").module.ANALYTICS
    op.execute(f"CREATE OR REPLACE VIEW analytics.learner_course AS {analytics['learner_course']}")
    op.execute("DROP VIEW course_activity")
