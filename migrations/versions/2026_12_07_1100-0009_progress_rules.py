"""The learner-progress rules, each written once, in SQL, and read by the API and the
``analytics`` views alike (``progress/`` owns them; docs/architecture.md, "Progress"):

- ``quiz_score_percent(score, max_score)``: an attempt's score as a percentage (100 when
  there was nothing to score: max score 0);
- ``quiz_attempt_passed(score, max_score, pass_percent)``: an attempt reached the pass mark
  of the quiz version it showed; ``quiz_attempts`` now keeps that version's
  ``pass_percent`` and ``scoring_policy`` (backfilled: the pass mark from each submitted
  attempt's answer snapshot, the policy from the current content index);
- view ``quiz_standings`` and ``quiz_passed(learner, quiz)``: THE quiz-passed rule, by the
  scoring policy of the version the learner saw last (highest: some attempt passed; last:
  the latest attempt passed; average: the mean percentage reaches the latest pass mark);
- view ``items_done``: a lesson completed, a quiz passed (practices are not tracked yet);
- view ``course_completion``: the completion rule and the rollup, per learner and course
  with an enrollment (every current required item done);
- view ``learner_streaks``: the streak rule (consecutive days with a learning event in the
  learner's time zone; the current streak counts while its last day is today or yesterday).

The analytics views read these (``streak_distribution``, ``quiz_summary``,
``learner_course``) and two new ones show them per learner (``learner_quiz``,
``learner_streaks``). Quiz submission now answers retries through the one idempotency
mechanism (``idempotency_keys``), so its own key, body hash and stored answer leave
``quiz_attempts``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNING_VERBS = "('started', 'completed', 'attempted', 'passed', 'failed')"
"""The events that make a day an activity day: signing up or enrolling alone do not."""

FUNCTIONS = (
    """
    CREATE FUNCTION quiz_score_percent(score numeric, max_score numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN max_score = 0 THEN 100 ELSE score * 100 / max_score END
    $$
    """,
    """
    CREATE FUNCTION quiz_attempt_passed(score numeric, max_score numeric, pass_percent numeric)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT quiz_score_percent(score, max_score) >= coalesce(pass_percent, 0)
    $$
    """,
)

RULES: dict[str, str] = {
    "quiz_standings": """
        SELECT user_id, quiz_content_id AS quiz_id, count(*) AS attempts,
               CASE (array_agg(scoring_policy ORDER BY submitted_at DESC, id DESC))[1]
                 WHEN 'average' THEN avg(quiz_score_percent(score, max_score))
                   >= (array_agg(coalesce(pass_percent, 0) ORDER BY submitted_at DESC, id DESC))[1]
                 WHEN 'last' THEN (array_agg(quiz_attempt_passed(score, max_score, pass_percent)
                                             ORDER BY submitted_at DESC, id DESC))[1]
                 ELSE bool_or(quiz_attempt_passed(score, max_score, pass_percent))
               END AS passed
        FROM quiz_attempts
        WHERE submitted_at IS NOT NULL AND deleted_at IS NULL
        GROUP BY user_id, quiz_content_id
    """,
    "items_done": """
        SELECT user_id, lesson_content_id AS item_id FROM lesson_progress
        WHERE status = 'completed' AND deleted_at IS NULL
        UNION ALL
        SELECT user_id, quiz_id FROM quiz_standings WHERE passed
    """,
    "course_completion": """
        SELECT l.user_id, l.course_id,
               count(*) FILTER (WHERE i.required AND d.item_id IS NOT NULL) AS completed_required,
               count(*) FILTER (WHERE i.required) AS total_required,
               coalesce(round(100.0 * count(*) FILTER (WHERE i.required AND d.item_id IS NOT NULL)
                              / nullif(count(*) FILTER (WHERE i.required), 0), 1), 0)
                 AS percent_complete,
               NOT coalesce(bool_or(i.required AND d.item_id IS NULL), false) AS complete,
               max(i.position) FILTER (WHERE d.item_id IS NOT NULL) AS last_done_position
        FROM (SELECT DISTINCT user_id, course_id FROM enrollments WHERE deleted_at IS NULL) AS l
        LEFT JOIN content_index i
          ON i.course_id = l.course_id AND i.status = 'active' AND i.deleted_at IS NULL
        LEFT JOIN items_done d ON d.user_id = l.user_id AND d.item_id = i.content_id
        GROUP BY l.user_id, l.course_id
    """,
    "learner_streaks": f"""
        SELECT runs.user_id,
               coalesce(max(runs.length) FILTER (
                 WHERE runs.last_day >= (statement_timestamp() AT TIME ZONE runs.time_zone)::date - 1
               ), 0) AS current_streak_days,
               max(runs.length) AS longest_streak_days
        FROM (
          SELECT user_id, time_zone, max(day) AS last_day, count(*) AS length
          FROM (
            SELECT user_id, time_zone, day,
                   day - (row_number() OVER (PARTITION BY user_id ORDER BY day))::int AS island
            FROM (
              SELECT DISTINCT a.actor_id AS user_id, u.time_zone,
                     (a.occurred_at AT TIME ZONE u.time_zone)::date AS day
              FROM activity_log a JOIN users u ON u.id = a.actor_id
              WHERE a.verb IN {LEARNING_VERBS} AND a.deleted_at IS NULL
            ) AS days
          ) AS islands
          GROUP BY user_id, time_zone, island
        ) AS runs
        GROUP BY runs.user_id
    """,
}

QUIZ_PASSED = """
CREATE OR REPLACE FUNCTION quiz_passed(learner uuid, quiz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT passed FROM quiz_standings WHERE user_id = learner AND quiz_id = quiz), false)
$$
"""

ANALYTICS: dict[str, str] = {
    "streak_distribution": """
        SELECT longest_streak_days AS streak_days, count(*) AS learners
        FROM learner_streaks GROUP BY longest_streak_days
    """,
    "quiz_summary": """
        SELECT i.content_id AS quiz_id, i.title, c.content_id AS course_id,
               count(a.id) AS attempts,
               count(DISTINCT a.user_id) AS learners,
               round(avg(a.passed::int), 4) AS pass_rate,
               round(avg(quiz_score_percent(a.score, a.max_score)), 2) AS mean_score_percent,
               round((percentile_cont(0.5) WITHIN GROUP (
                 ORDER BY quiz_score_percent(a.score, a.max_score)::float8))::numeric, 2)
                 AS median_score_percent,
               (SELECT count(*) FROM quiz_standings s
                WHERE s.quiz_id = i.content_id AND s.passed) AS learners_passed
        FROM content_index i
        JOIN courses c ON c.id = i.course_id
        LEFT JOIN quiz_attempts a
          ON a.quiz_content_id = i.content_id AND a.submitted_at IS NOT NULL
         AND a.deleted_at IS NULL
        WHERE i.item_type = 'quiz' AND i.deleted_at IS NULL
        GROUP BY i.id, c.content_id
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
               p.last_activity_at,
               coalesce(cc.completed_required, 0) AS required_completed,
               coalesce(cc.percent_complete, 0) AS percent_complete
        FROM enrollments e JOIN courses c ON c.id = e.course_id
        LEFT JOIN progress p ON p.user_id = e.user_id AND p.course_id = e.course_id
        LEFT JOIN attempts a ON a.user_id = e.user_id AND a.course_id = e.course_id
        LEFT JOIN required r ON r.course_id = e.course_id
        LEFT JOIN course_completion cc ON cc.user_id = e.user_id AND cc.course_id = e.course_id
        WHERE e.deleted_at IS NULL
    """,
    "learner_quiz": """
        SELECT s.user_id, c.content_id AS course_id, s.quiz_id, s.attempts, s.passed
        FROM quiz_standings s
        LEFT JOIN content_index i ON i.content_id = s.quiz_id
        LEFT JOIN courses c ON c.id = i.course_id
    """,
    "learner_streaks": """
        SELECT user_id, current_streak_days, longest_streak_days FROM learner_streaks
    """,
}
NEW_ANALYTICS = ("learner_quiz", "learner_streaks")


def upgrade() -> None:
    op.add_column("quiz_attempts", sa.Column("pass_percent", sa.Numeric(7, 4), nullable=True))
    op.add_column("quiz_attempts", sa.Column("scoring_policy", sa.String(), nullable=True))
    op.create_check_constraint(
        op.f("ck_quiz_attempts_scoring_policy"),
        "quiz_attempts",
        "scoring_policy IN ('highest', 'last', 'average')",
    )
    # Submitted attempts are immutable (trigger); filling in what they already showed is
    # not a change of the attempt, so the triggers stand aside for this one statement.
    op.execute("ALTER TABLE quiz_attempts DISABLE TRIGGER USER")
    op.execute(
        """
        UPDATE quiz_attempts a SET
          pass_percent = coalesce((a.details->'quiz'->>'pass_percent')::numeric, i.pass_percent),
          scoring_policy = i.scoring_policy
        FROM content_index i WHERE i.content_id = a.quiz_content_id
        """
    )
    op.execute("ALTER TABLE quiz_attempts ENABLE TRIGGER USER")
    op.drop_column("quiz_attempts", "response")
    op.drop_column("quiz_attempts", "request_hash")
    op.drop_column("quiz_attempts", "idempotency_key")
    for function in FUNCTIONS:
        op.execute(function)
    for name, query in RULES.items():
        op.execute(f"CREATE VIEW {name} AS {query}")
    op.execute(QUIZ_PASSED)
    for name, query in ANALYTICS.items():
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {query}")


def _previous(revision: str, attribute: str, name: str) -> str:
    """An earlier revision's definition (a downgrade restores it)."""
    definitions: dict[str, str] = getattr(context.script.get_revision(revision).module, attribute)
    return definitions[name]


def downgrade() -> None:
    for name in NEW_ANALYTICS:
        op.execute(f"DROP VIEW analytics.{name}")
    # Columns added to a view cannot be dropped by CREATE OR REPLACE.
    op.execute("DROP VIEW analytics.learner_course")
    op.execute(
        f"CREATE VIEW analytics.learner_course AS {_previous('0006', 'VIEWS', 'learner_course')}"
    )
    op.execute("DROP VIEW analytics.quiz_summary")
    op.execute(
        f"CREATE VIEW analytics.quiz_summary AS {_previous('0006', 'VIEWS', 'quiz_summary')}"
    )
    streaks = _previous("0006", "VIEWS", "streak_distribution")
    op.execute(f"CREATE OR REPLACE VIEW analytics.streak_distribution AS {streaks}")
    op.execute(
        _previous("0005", "__dict__", "QUIZ_PASSED").replace("CREATE ", "CREATE OR REPLACE ", 1)
    )
    for name in reversed(RULES):
        op.execute(f"DROP VIEW {name}")
    op.execute("DROP FUNCTION quiz_attempt_passed(numeric, numeric, numeric)")
    op.execute("DROP FUNCTION quiz_score_percent(numeric, numeric)")
    op.add_column("quiz_attempts", sa.Column("idempotency_key", sa.String(), nullable=True))
    op.add_column("quiz_attempts", sa.Column("request_hash", sa.String(), nullable=True))
    op.add_column("quiz_attempts", sa.Column("response", sa.String(), nullable=True))
    op.drop_constraint(op.f("ck_quiz_attempts_scoring_policy"), "quiz_attempts", type_="check")
    op.drop_column("quiz_attempts", "scoring_policy")
    op.drop_column("quiz_attempts", "pass_percent")
