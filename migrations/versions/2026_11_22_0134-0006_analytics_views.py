"""The ``analytics`` schema: views analysts query instead of the tables.

Only ids identify learners here, never emails or names. Titles come from
``content_index`` and ``courses``, so no view needs MongoDB. Every column is documented
in docs/analytics.md.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 01:34:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNING_VERBS = "('started', 'completed', 'attempted', 'passed', 'failed')"

VIEWS: dict[str, str] = {
    "course_funnel": """
        WITH enrolled AS (
          SELECT course_id, count(DISTINCT user_id) AS enrolled,
                 count(DISTINCT user_id) FILTER (WHERE status = 'completed') AS completed
          FROM enrollments WHERE deleted_at IS NULL GROUP BY course_id
        ), started AS (
          SELECT course_id, count(DISTINCT user_id) AS started
          FROM lesson_progress WHERE deleted_at IS NULL GROUP BY course_id
        )
        SELECT c.content_id AS course_id, c.title, c.status,
               coalesce(e.enrolled, 0) AS enrolled,
               coalesce(s.started, 0) AS started,
               coalesce(e.completed, 0) AS completed,
               round(coalesce(s.started, 0)::numeric / nullif(e.enrolled, 0), 4) AS start_rate,
               round(coalesce(e.completed, 0)::numeric / nullif(e.enrolled, 0), 4)
                 AS completion_rate
        FROM courses c
        LEFT JOIN enrolled e ON e.course_id = c.id
        LEFT JOIN started s ON s.course_id = c.id
        WHERE c.deleted_at IS NULL
    """,
    "lesson_completion": """
        WITH counts AS (
          SELECT i.course_id, i.module_id, i.module_title, i.module_order, i.position,
                 i.content_id AS lesson_id, i.title,
                 count(p.id) AS started,
                 count(p.id) FILTER (WHERE p.status = 'completed') AS completed
          FROM content_index i
          LEFT JOIN lesson_progress p
            ON p.lesson_content_id = i.content_id AND p.deleted_at IS NULL
          WHERE i.item_type = 'lesson' AND i.status = 'active' AND i.deleted_at IS NULL
          GROUP BY i.id
        )
        SELECT c.content_id AS course_id, counts.module_id, counts.module_title,
               counts.module_order, counts.position, counts.lesson_id, counts.title,
               counts.started, counts.completed,
               round(counts.completed::numeric / nullif(counts.started, 0), 4)
                 AS completion_rate,
               round(1 - counts.started::numeric / nullif(lag(counts.started) OVER (
                 PARTITION BY counts.course_id ORDER BY counts.position), 0), 4)
                 AS dropoff_from_previous
        FROM counts JOIN courses c ON c.id = counts.course_id
    """,
    "quiz_summary": """
        SELECT i.content_id AS quiz_id, i.title, c.content_id AS course_id,
               count(a.id) AS attempts,
               count(DISTINCT a.user_id) AS learners,
               round(avg(a.passed::int), 4) AS pass_rate,
               round(avg(a.score / nullif(a.max_score, 0) * 100), 2) AS mean_score_percent,
               round((percentile_cont(0.5) WITHIN GROUP (
                 ORDER BY (a.score / nullif(a.max_score, 0) * 100)::float8))::numeric, 2)
                 AS median_score_percent
        FROM content_index i
        JOIN courses c ON c.id = i.course_id
        LEFT JOIN quiz_attempts a
          ON a.quiz_content_id = i.content_id AND a.submitted_at IS NOT NULL
         AND a.deleted_at IS NULL
        WHERE i.item_type = 'quiz' AND i.deleted_at IS NULL
        GROUP BY i.id, c.content_id
    """,
    "question_items": """
        WITH answers AS (
          SELECT a.quiz_content_id AS quiz_id, q->>'question_id' AS question_id,
                 (q->>'correct')::boolean AS correct,
                 (a.score / nullif(a.max_score, 0))::float8 AS total
          FROM quiz_attempts a, jsonb_array_elements(a.details->'questions') AS q
          WHERE a.submitted_at IS NOT NULL AND a.deleted_at IS NULL
        )
        SELECT quiz_id, question_id, count(*) AS answers,
               round(avg(correct::int), 4) AS difficulty,
               round(corr(correct::int::float8, total)::numeric, 4) AS discrimination
        FROM answers GROUP BY quiz_id, question_id
    """,
    "daily_active_learners": f"""
        SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
               count(DISTINCT actor_id) AS learners
        FROM activity_log WHERE verb IN {LEARNING_VERBS} AND deleted_at IS NULL
        GROUP BY 1
    """,
    "weekly_active_learners": f"""
        SELECT date_trunc('week', occurred_at AT TIME ZONE 'UTC')::date AS week,
               count(DISTINCT actor_id) AS learners
        FROM activity_log WHERE verb IN {LEARNING_VERBS} AND deleted_at IS NULL
        GROUP BY 1
    """,
    "streak_distribution": f"""
        WITH days AS (
          SELECT DISTINCT a.actor_id, (a.occurred_at AT TIME ZONE u.time_zone)::date AS day
          FROM activity_log a JOIN users u ON u.id = a.actor_id
          WHERE a.verb IN {LEARNING_VERBS} AND a.deleted_at IS NULL
        ), runs AS (
          SELECT actor_id, count(*) AS length
          FROM (SELECT actor_id, day - (row_number() OVER (
                  PARTITION BY actor_id ORDER BY day))::int AS island FROM days) AS islands
          GROUP BY actor_id, island
        ), longest AS (
          SELECT actor_id, max(length) AS streak_days FROM runs GROUP BY actor_id
        )
        SELECT streak_days, count(*) AS learners FROM longest GROUP BY streak_days
    """,
    "time_to_complete": """
        SELECT c.content_id AS course_id, c.title,
               count(*) AS completions,
               round((avg(extract(epoch FROM e.completed_at - e.enrolled_at)) / 86400)::numeric, 2)
                 AS mean_days,
               round((percentile_cont(0.5) WITHIN GROUP (
                 ORDER BY extract(epoch FROM e.completed_at - e.enrolled_at)) / 86400)::numeric, 2)
                 AS median_days
        FROM enrollments e JOIN courses c ON c.id = e.course_id
        WHERE e.status = 'completed' AND e.deleted_at IS NULL
        GROUP BY c.id
    """,
    "learner_course": """
        WITH progress AS (
          SELECT user_id, course_id,
                 count(*) FILTER (WHERE status = 'completed') AS lessons_completed,
                 max(updated_at) AS last_activity_at
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
               p.last_activity_at
        FROM enrollments e JOIN courses c ON c.id = e.course_id
        LEFT JOIN progress p ON p.user_id = e.user_id AND p.course_id = e.course_id
        LEFT JOIN attempts a ON a.user_id = e.user_id AND a.course_id = e.course_id
        LEFT JOIN required r ON r.course_id = e.course_id
        WHERE e.deleted_at IS NULL
    """,
}


def upgrade() -> None:
    op.execute("CREATE SCHEMA analytics")
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {query}")


def downgrade() -> None:
    op.execute("DROP SCHEMA analytics CASCADE")
