"""Quiz result versions ([5/8], DECISIONS 15; docs/assessment.md "Results and regrades").

- ``quiz_results``: append-only result versions of submitted attempts (score, max score,
  passed, each question's points and the question version that graded it, why), unique
  per (attempt, version); a trigger refuses UPDATE, DELETE and TRUNCATE for every role.
- Version 1 is written by the database in the statement that seals an attempt (trigger
  ``quiz_attempts_sealed_result``, on INSERT and on the UPDATE that sets
  ``submitted_at``), so no sealed attempt lacks a result however it was written; every
  attempt already submitted gets its version 1 here, dated at its submission.
- ``quiz_result_questions(details)``: the per-question points of a graded snapshot.
- View ``quiz_attempt_results``: each attempt with its latest result (a LATERAL index
  lookup per attempt, so a rule filtered by learner reads only their rows).
- ``quiz_standings`` (so ``quiz_passed()``, ``items_done``, ``course_completion``, the
  points) and ``analytics.quiz_summary`` read the latest result instead of the attempt's
  grade at submission. The attempt itself never changes (its trigger stands).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-09 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUESTIONS = """
CREATE FUNCTION quiz_result_questions(details jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    (SELECT jsonb_agg(jsonb_build_object(
              'question_id', q->'question_id', 'version', q->'version',
              'points', q->'points', 'max_points', q->'max_points', 'correct', q->'correct')
            ORDER BY n)
     FROM jsonb_array_elements(
            CASE jsonb_typeof(details->'questions') WHEN 'array' THEN details->'questions'
            ELSE '[]' END) WITH ORDINALITY AS e(q, n)),
    '[]')
$$
"""

SEALED_RESULT = """
CREATE FUNCTION quiz_attempts_sealed_result() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO quiz_results
    (attempt_id, version, score, max_score, passed, question_points, reason,
     created_by, updated_by)
  VALUES
    (NEW.id, 1, NEW.score, NEW.max_score,
     quiz_attempt_passed(NEW.score, NEW.max_score, NEW.pass_percent),
     quiz_result_questions(NEW.details), 'sealed', NEW.updated_by, NEW.updated_by);
  RETURN NULL;
END
$$
"""

SEALED = "NEW.submitted_at IS NOT NULL AND NEW.score IS NOT NULL AND NEW.max_score IS NOT NULL"

TRIGGERS = (
    "CREATE TRIGGER quiz_attempts_sealed_result AFTER UPDATE OF submitted_at ON quiz_attempts "
    f"FOR EACH ROW WHEN (OLD.submitted_at IS NULL AND {SEALED}) "
    "EXECUTE FUNCTION quiz_attempts_sealed_result()",
    "CREATE TRIGGER quiz_attempts_inserted_result AFTER INSERT ON quiz_attempts "
    f"FOR EACH ROW WHEN ({SEALED}) EXECUTE FUNCTION quiz_attempts_sealed_result()",
    # refuse_change() is migration 0010's: it refuses whatever it guards, with a reason.
    "CREATE TRIGGER quiz_results_append_only BEFORE UPDATE OR DELETE ON quiz_results "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change('append-only')",
    "CREATE TRIGGER quiz_results_no_truncate BEFORE TRUNCATE ON quiz_results "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('append-only')",
    "CREATE TRIGGER quiz_results_set_updated_at BEFORE UPDATE ON quiz_results "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
)

BACKFILL = """
INSERT INTO quiz_results
  (attempt_id, version, score, max_score, passed, question_points, reason,
   created_at, updated_at, created_by, updated_by)
SELECT id, 1, score, max_score, quiz_attempt_passed(score, max_score, pass_percent),
       quiz_result_questions(details), 'sealed', submitted_at, submitted_at,
       updated_by, updated_by
FROM quiz_attempts
WHERE submitted_at IS NOT NULL AND score IS NOT NULL AND max_score IS NOT NULL
"""

ATTEMPT_RESULTS = """
CREATE VIEW quiz_attempt_results AS
SELECT a.id AS attempt_id, a.user_id, a.course_id, a.quiz_content_id, a.quiz_version,
       a.attempt_no, a.submitted_at, a.pass_percent, a.scoring_policy, a.deleted_at,
       r.version, r.score, r.max_score, r.passed, r.question_points, r.reason,
       r.created_at AS graded_at
FROM quiz_attempts a
CROSS JOIN LATERAL (
  SELECT * FROM quiz_results r WHERE r.attempt_id = a.id ORDER BY r.version DESC LIMIT 1
) AS r
"""

STANDINGS = """
    SELECT user_id, quiz_content_id AS quiz_id, count(*) AS attempts,
           CASE (array_agg(scoring_policy ORDER BY submitted_at DESC, attempt_id DESC))[1]
             WHEN 'average' THEN avg(quiz_score_percent(score, max_score))
               >= (array_agg(coalesce(pass_percent, 0)
                             ORDER BY submitted_at DESC, attempt_id DESC))[1]
             WHEN 'last' THEN (array_agg(passed ORDER BY submitted_at DESC, attempt_id DESC))[1]
             ELSE bool_or(passed)
           END AS passed
    FROM quiz_attempt_results
    WHERE submitted_at IS NOT NULL AND deleted_at IS NULL
    GROUP BY user_id, quiz_content_id
"""
"""THE quiz-passed rule of 0009, on each attempt's latest result."""


def _previous(revision: str, attribute: str, name: str) -> str:
    """An earlier revision's definition (this one edits it; a downgrade restores it)."""
    definitions: dict[str, str] = getattr(context.script.get_revision(revision).module, attribute)
    return definitions[name]


def _quiz_summary() -> str:
    """0018's quiz summary, on each attempt's latest result."""
    before = _previous("0018", "AGGREGATES", "quiz_summary")
    after = before.replace("(quiz_attempts a ", "(quiz_attempt_results a ").replace(
        "count(a.id)", "count(a.attempt_id)"
    )
    assert after.count("quiz_attempt_results") == 1
    assert "count(a.attempt_id)" in after
    return after


def upgrade() -> None:
    op.create_table(
        "quiz_results",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("max_score", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("question_points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.CheckConstraint(
            "jsonb_typeof(question_points) = 'array'",
            name=op.f("ck_quiz_results_question_points"),
        ),
        sa.CheckConstraint(
            "max_score >= 0 AND score >= 0 AND score <= max_score",
            name=op.f("ck_quiz_results_score"),
        ),
        sa.CheckConstraint("reason IN ('sealed', 'regrade')", name=op.f("ck_quiz_results_reason")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_quiz_results_version")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_results_attempt_id_quiz_attempts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_results")),
        sa.UniqueConstraint(
            "attempt_id", "version", name=op.f("uq_quiz_results_attempt_id_version")
        ),
    )
    op.execute(QUESTIONS)
    op.execute(BACKFILL)
    op.execute(SEALED_RESULT)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute(ATTEMPT_RESULTS)
    op.execute(f"CREATE OR REPLACE VIEW quiz_standings AS {STANDINGS}")
    op.execute(f"CREATE OR REPLACE VIEW analytics.quiz_summary AS {_quiz_summary()}")


def downgrade() -> None:
    summary = _previous("0018", "AGGREGATES", "quiz_summary")
    op.execute(f"CREATE OR REPLACE VIEW analytics.quiz_summary AS {summary}")
    standings = _previous("0009", "RULES", "quiz_standings")
    op.execute(f"CREATE OR REPLACE VIEW quiz_standings AS {standings}")
    op.execute("DROP VIEW quiz_attempt_results")
    op.execute("DROP TRIGGER quiz_attempts_inserted_result ON quiz_attempts")
    op.execute("DROP TRIGGER quiz_attempts_sealed_result ON quiz_attempts")
    op.execute("DROP FUNCTION quiz_attempts_sealed_result()")
    op.execute("DROP FUNCTION quiz_result_questions(jsonb)")
    op.drop_table("quiz_results")
