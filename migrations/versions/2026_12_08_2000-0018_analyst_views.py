"""The analysts' dimensions, and learners told apart from staff and erased accounts
([1/8] items 25 and 32). Every column is documented in docs/analytics.md.

New views (ids and titles, never an email or a name):

- ``analytics.learners``: one row per account: ``role``, ``is_staff`` (author or admin,
  as ``identity.models.STAFF_ROLES``), ``is_erased`` (the account was erased: its
  records stay, pseudonymous), ``counted`` (neither: what the aggregate views count),
  the sign-up cohort (``signup_month``, ``signup_week``, UTC) and ``time_zone``;
- ``analytics.courses``: the catalog dimension (category, track, level, language, price,
  currency, status, lesson count and duration);
- ``analytics.course_items``: every lesson, quiz and practice with its course, module and
  position, and its title (analysts may not read ``content_index``);
- ``analytics.activity``: the activity log without personal data (the actor as an id,
  content as stable ids; ``syllabus analytics export activity`` reads it).

Changed: the aggregate views (``course_funnel``, ``lesson_completion``, ``quiz_summary``,
``question_items``, ``daily_active_learners``, ``weekly_active_learners``,
``streak_distribution``, ``time_to_complete``) count only ``counted`` learners; the
per-learner views (``learner_course``, ``learner_quiz``, ``learner_streaks``) keep every
row and gain ``is_staff`` and ``is_erased``. The materialized twins are refreshed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 20:00:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNING_VERBS = "('started', 'completed', 'attempted', 'passed', 'failed')"
STAFF_ROLES = "('author', 'admin')"
"""identity.models.STAFF_ROLES (a test holds the two together)."""

NEW: dict[str, str] = {
    "learners": f"""
        SELECT id AS user_id, role,
               role IN {STAFF_ROLES} AS is_staff,
               deleted_at IS NOT NULL AS is_erased,
               role NOT IN {STAFF_ROLES} AND deleted_at IS NULL AS counted,
               date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS signup_month,
               date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS signup_week,
               time_zone
        FROM users
    """,
    "courses": """
        SELECT c.content_id AS course_id, c.title, c.status,
               cat.slug AS category, cat.name AS category_name,
               t.slug AS track, t.name AS track_name,
               c.level, c.language, c.price_cents, c.currency,
               coalesce(c.price_cents, 0) = 0 AS is_free,
               c.lesson_count, c.duration_minutes, c.content_updated_at
        FROM courses c
        JOIN categories cat ON cat.id = c.category_id
        LEFT JOIN tracks t ON t.id = c.track_id
        WHERE c.deleted_at IS NULL
    """,
    "course_items": """
        SELECT i.content_id AS item_id, i.item_type, i.title, c.content_id AS course_id,
               i.module_id, i.module_title, i.module_order, i.position,
               i.required, i.points, i.duration_minutes, i.preview, i.status
        FROM content_index i JOIN courses c ON c.id = i.course_id
        WHERE i.deleted_at IS NULL
    """,
    "activity": """
        SELECT a.id AS activity_id, a.actor_id AS user_id, a.verb, a.object_type,
               a.object_id, c.content_id AS course_id, a.result, a.occurred_at
        FROM activity_log a LEFT JOIN courses c ON c.id = a.course_id
        WHERE a.deleted_at IS NULL
    """,
}

COUNTED = "JOIN analytics.learners l ON l.user_id = {column} AND l.counted"
"""How an aggregate view keeps only the learners it counts."""

AGGREGATES: dict[str, str] = {
    "course_funnel": f"""
        WITH enrolled AS (
          SELECT e.course_id, count(DISTINCT e.user_id) AS enrolled,
                 count(DISTINCT e.user_id) FILTER (WHERE e.status = 'completed') AS completed
          FROM enrollments e {COUNTED.format(column="e.user_id")}
          WHERE e.deleted_at IS NULL GROUP BY e.course_id
        ), started AS (
          SELECT p.course_id, count(DISTINCT p.user_id) AS started
          FROM lesson_progress p {COUNTED.format(column="p.user_id")}
          WHERE p.deleted_at IS NULL GROUP BY p.course_id
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
    "lesson_completion": f"""
        WITH counts AS (
          SELECT i.course_id, i.module_id, i.module_title, i.module_order, i.position,
                 i.content_id AS lesson_id, i.title,
                 count(p.id) AS started,
                 count(p.id) FILTER (WHERE p.status = 'completed') AS completed
          FROM content_index i
          LEFT JOIN (lesson_progress p {COUNTED.format(column="p.user_id")})
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
    "quiz_summary": f"""
        SELECT i.content_id AS quiz_id, i.title, c.content_id AS course_id,
               count(a.id) AS attempts,
               count(DISTINCT a.user_id) AS learners,
               round(avg(a.passed::int), 4) AS pass_rate,
               round(avg(quiz_score_percent(a.score, a.max_score)), 2) AS mean_score_percent,
               round((percentile_cont(0.5) WITHIN GROUP (
                 ORDER BY quiz_score_percent(a.score, a.max_score)::float8))::numeric, 2)
                 AS median_score_percent,
               (SELECT count(*) FROM quiz_standings s {COUNTED.format(column="s.user_id")}
                WHERE s.quiz_id = i.content_id AND s.passed) AS learners_passed
        FROM content_index i
        JOIN courses c ON c.id = i.course_id
        LEFT JOIN (quiz_attempts a {COUNTED.format(column="a.user_id")})
          ON a.quiz_content_id = i.content_id AND a.submitted_at IS NOT NULL
         AND a.deleted_at IS NULL
        WHERE i.item_type = 'quiz' AND i.deleted_at IS NULL
        GROUP BY i.id, c.content_id
    """,
    "question_items": f"""
        WITH answers AS (
          SELECT a.quiz_content_id AS quiz_id, q.question_id, q.correct,
                 (a.score / nullif(a.max_score, 0))::float8 AS total
          FROM quiz_attempts a {COUNTED.format(column="a.user_id")},
               jsonb_to_recordset(a.details->'questions') AS q(question_id text, correct boolean)
          WHERE a.submitted_at IS NOT NULL AND a.deleted_at IS NULL
        )
        SELECT quiz_id, question_id, count(*) AS answers,
               round(count(*) FILTER (WHERE correct)::numeric / nullif(count(correct), 0), 4)
                 AS difficulty,
               round(corr(correct::int::float8, total)::numeric, 4) AS discrimination
        FROM answers GROUP BY quiz_id, question_id
    """,
    "daily_active_learners": f"""
        SELECT (a.occurred_at AT TIME ZONE 'UTC')::date AS day,
               count(DISTINCT a.actor_id) AS learners
        FROM activity_log a {COUNTED.format(column="a.actor_id")}
        WHERE a.verb IN {LEARNING_VERBS} AND a.deleted_at IS NULL
        GROUP BY 1
    """,
    "weekly_active_learners": f"""
        SELECT date_trunc('week', a.occurred_at AT TIME ZONE 'UTC')::date AS week,
               count(DISTINCT a.actor_id) AS learners
        FROM activity_log a {COUNTED.format(column="a.actor_id")}
        WHERE a.verb IN {LEARNING_VERBS} AND a.deleted_at IS NULL
        GROUP BY 1
    """,
    "streak_distribution": f"""
        SELECT s.longest_streak_days AS streak_days, count(*) AS learners
        FROM learner_streaks s {COUNTED.format(column="s.user_id")}
        GROUP BY s.longest_streak_days
    """,
    "time_to_complete": f"""
        SELECT c.content_id AS course_id, c.title,
               count(*) AS completions,
               round((avg(extract(epoch FROM e.completed_at - e.enrolled_at)) / 86400)::numeric, 2)
                 AS mean_days,
               round((percentile_cont(0.5) WITHIN GROUP (
                 ORDER BY extract(epoch FROM e.completed_at - e.enrolled_at)) / 86400)::numeric, 2)
                 AS median_days
        FROM enrollments e JOIN courses c ON c.id = e.course_id
        {COUNTED.format(column="e.user_id")}
        WHERE e.status = 'completed' AND e.deleted_at IS NULL
        GROUP BY c.id
    """,
}
TWINS = ("question_items", "streak_distribution")

FLAGS = "l.is_staff, l.is_erased"
PER_LEARNER = ("learner_course", "learner_quiz", "learner_streaks")


def _previous(revision: str, attribute: str, name: str) -> str:
    """An earlier revision's definition (the per-learner views extend it; a downgrade
    restores it)."""
    definitions: dict[str, str] = getattr(context.script.get_revision(revision).module, attribute)
    return definitions[name]


PREVIOUS = {
    "course_funnel": ("0006", "VIEWS"),
    "lesson_completion": ("0006", "VIEWS"),
    "quiz_summary": ("0009", "ANALYTICS"),
    "question_items": ("0007", "FASTER"),
    "daily_active_learners": ("0006", "VIEWS"),
    "weekly_active_learners": ("0006", "VIEWS"),
    "streak_distribution": ("0009", "ANALYTICS"),
    "time_to_complete": ("0006", "VIEWS"),
    "learner_course": ("0017", "__dict__"),
    "learner_quiz": ("0009", "ANALYTICS"),
    "learner_streaks": ("0009", "ANALYTICS"),
}


def _flagged(name: str) -> str:
    """A per-learner view as before, with the learner's flags as its last columns."""
    revision, attribute = PREVIOUS[name]
    key = "LEARNER_COURSE" if attribute == "__dict__" else name
    return (
        f"SELECT v.*, {FLAGS} FROM ({_previous(revision, attribute, key)}) AS v "
        "JOIN analytics.learners l ON l.user_id = v.user_id"
    )


def upgrade() -> None:
    for name, query in NEW.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {query}")
    for name, query in AGGREGATES.items():
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {query}")
    for name in PER_LEARNER:
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {_flagged(name)}")
    for name in TWINS:
        op.execute(f"REFRESH MATERIALIZED VIEW analytics.{name}_mat")


def downgrade() -> None:
    for name in PER_LEARNER:  # columns cannot be dropped by CREATE OR REPLACE
        revision, attribute = PREVIOUS[name]
        key = "LEARNER_COURSE" if attribute == "__dict__" else name
        op.execute(f"DROP VIEW analytics.{name}")
        op.execute(f"CREATE VIEW analytics.{name} AS {_previous(revision, attribute, key)}")
    for name in AGGREGATES:
        revision, attribute = PREVIOUS[name]
        op.execute(
            f"CREATE OR REPLACE VIEW analytics.{name} AS {_previous(revision, attribute, name)}"
        )
    for name in TWINS:
        op.execute(f"REFRESH MATERIALIZED VIEW analytics.{name}_mat")
    for name in reversed(NEW):
        op.execute(f"DROP VIEW analytics.{name}")
