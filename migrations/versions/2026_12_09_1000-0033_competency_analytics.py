"""Competency analytics ([6/8]): three aggregate views, counted learners only (not staff,
not erased: ``analytics.learners.counted``), no personal data. Documented in
docs/analytics.md.

- ``analytics.competency_gaps``: per course and competency the course names: the
  course's learners (live enrollments), how many are not assessed yet, how many at each
  gap level 1-5 (the generated ``competency_mastery.gap_level``: the one rule of
  competencies/mastery.py), the average mastery;
- ``analytics.ticket_flow``: per UTC week and course: feedback tickets opened that week,
  closed that week (whenever opened), still open of those opened that week, and the
  median hours from opening to closing of those closed that week;
- ``analytics.lesson_time``: per lesson with time spent: learners, client sessions,
  total, mean and median seconds per learner (from ``analytics.learner_lesson_time``,
  migration 0030).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-09 10:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "competency_gaps": """
        WITH taught AS (
          SELECT DISTINCT course_id, competency_id FROM competency_links WHERE deleted_at IS NULL
        ), enrolled AS (
          SELECT DISTINCT e.course_id, e.user_id FROM enrollments e
          JOIN analytics.learners l ON l.user_id = e.user_id AND l.counted
          WHERE e.status <> 'cancelled' AND e.deleted_at IS NULL
        )
        SELECT c.content_id AS course_id, k.code AS competency, k.title,
               count(e.user_id) AS learners,
               count(e.user_id) - count(m.id) AS not_assessed,
               count(*) FILTER (WHERE m.gap_level = 1) AS gap_1,
               count(*) FILTER (WHERE m.gap_level = 2) AS gap_2,
               count(*) FILTER (WHERE m.gap_level = 3) AS gap_3,
               count(*) FILTER (WHERE m.gap_level = 4) AS gap_4,
               count(*) FILTER (WHERE m.gap_level = 5) AS gap_5,
               round(avg(m.mastery), 4) AS average_mastery
        FROM taught t
        JOIN courses c ON c.id = t.course_id
        JOIN competencies k ON k.id = t.competency_id AND k.deleted_at IS NULL
        LEFT JOIN enrolled e ON e.course_id = t.course_id
        LEFT JOIN competency_mastery m
          ON m.user_id = e.user_id AND m.competency_id = k.id AND m.deleted_at IS NULL
        GROUP BY c.content_id, k.code, k.title
    """,
    "ticket_flow": """
        WITH tickets AS (
          SELECT c.content_id AS course_id, f.created_at, f.closed_at
          FROM feedback_tickets f
          JOIN analytics.learners l ON l.user_id = f.user_id AND l.counted
          LEFT JOIN courses c ON c.id = f.course_id
          WHERE f.deleted_at IS NULL
        ), moves AS (
          SELECT date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS week, course_id,
                 1 AS opened, 0 AS closed, (closed_at IS NULL)::int AS still_open,
                 NULL::float8 AS hours
          FROM tickets
          UNION ALL
          SELECT date_trunc('week', closed_at AT TIME ZONE 'UTC')::date, course_id, 0, 1, 0,
                 extract(epoch FROM closed_at - created_at) / 3600
          FROM tickets WHERE closed_at IS NOT NULL
        )
        SELECT week, course_id, sum(opened) AS opened, sum(closed) AS closed,
               sum(still_open) AS still_open,
               round((percentile_cont(0.5) WITHIN GROUP (ORDER BY hours))::numeric, 2)
                 AS median_hours_to_close
        FROM moves
        GROUP BY week, course_id
    """,
    "lesson_time": """
        SELECT t.course_id, t.lesson_id, i.title,
               count(*) AS learners, sum(t.sessions) AS sessions,
               sum(t.seconds) AS total_seconds,
               round(avg(t.seconds)) AS mean_seconds,
               round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t.seconds))::numeric)
                 AS median_seconds
        FROM analytics.learner_lesson_time t
        JOIN analytics.learners l ON l.user_id = t.user_id AND l.counted
        LEFT JOIN content_index i ON i.content_id = t.lesson_id
        GROUP BY t.course_id, t.lesson_id, i.title
    """,
}


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW analytics.{name}")
