"""Quiz attempts that can be graded and can never change once submitted.

- attempts keep the quiz version, the question versions in the order shown, autosaved
  answers, the deadline, and the idempotency key, body hash and response of their submit;
- at most one open attempt per learner and quiz (partial unique index);
- a trigger refuses UPDATE and DELETE of a submitted attempt;
- content_index carries each quiz's pass mark and scoring policy, and
  ``quiz_passed(user, quiz)`` says whether the attempt that counts (highest, last or
  average) reaches it: the one definition every rollup and analyst query uses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 01:06:50.781603+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("content_index", sa.Column("pass_percent", sa.Float(), nullable=True))
    op.add_column("content_index", sa.Column("scoring_policy", sa.String(), nullable=True))
    op.add_column("quiz_attempts", sa.Column("quiz_version", sa.Integer(), nullable=True))
    op.add_column("quiz_attempts", sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "quiz_attempts",
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "quiz_attempts",
        sa.Column("saved_answers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("quiz_attempts", sa.Column("idempotency_key", sa.String(), nullable=True))
    op.add_column("quiz_attempts", sa.Column("request_hash", sa.String(), nullable=True))
    op.add_column(
        "quiz_attempts",
        sa.Column("response", sa.String(), nullable=True),
    )
    op.create_index(
        "uq_quiz_attempts_user_id_quiz_content_id_open",
        "quiz_attempts",
        ["user_id", "quiz_content_id"],
        unique=True,
        postgresql_where=sa.text("submitted_at IS NULL AND deleted_at IS NULL"),
    )
    op.execute(IMMUTABLE)
    op.execute(
        "CREATE TRIGGER quiz_attempts_immutable BEFORE UPDATE OR DELETE ON quiz_attempts "
        "FOR EACH ROW EXECUTE FUNCTION quiz_attempts_refuse_changes()"
    )
    op.execute(QUIZ_PASSED)


IMMUTABLE = """
CREATE FUNCTION quiz_attempts_refuse_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.submitted_at IS NOT NULL THEN
    RAISE EXCEPTION 'quiz attempt % is submitted and cannot change', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""

QUIZ_PASSED = """
CREATE FUNCTION quiz_passed(learner uuid, quiz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  WITH policy AS (
    SELECT coalesce(scoring_policy, 'highest') AS scoring, coalesce(pass_percent, 0) AS bar
    FROM content_index WHERE content_id = quiz
  ), attempts AS (
    SELECT score / nullif(max_score, 0) * 100 AS percent, submitted_at
    FROM quiz_attempts
    WHERE user_id = learner AND quiz_content_id = quiz
      AND submitted_at IS NOT NULL AND deleted_at IS NULL
  )
  SELECT coalesce((
    SELECT CASE policy.scoring
      WHEN 'highest' THEN (SELECT max(percent) FROM attempts)
      WHEN 'average' THEN (SELECT avg(percent) FROM attempts)
      ELSE (SELECT percent FROM attempts ORDER BY submitted_at DESC LIMIT 1)
    END >= policy.bar
    FROM policy), false)
$$
"""


def downgrade() -> None:
    op.execute("DROP FUNCTION quiz_passed(uuid, text)")
    op.execute("DROP TRIGGER quiz_attempts_immutable ON quiz_attempts")
    op.execute("DROP FUNCTION quiz_attempts_refuse_changes()")
    op.drop_index(
        "uq_quiz_attempts_user_id_quiz_content_id_open",
        table_name="quiz_attempts",
        postgresql_where=sa.text("submitted_at IS NULL AND deleted_at IS NULL"),
    )
    op.drop_column("quiz_attempts", "response")
    op.drop_column("quiz_attempts", "request_hash")
    op.drop_column("quiz_attempts", "idempotency_key")
    op.drop_column("quiz_attempts", "saved_answers")
    op.drop_column("quiz_attempts", "questions")
    op.drop_column("quiz_attempts", "deadline")
    op.drop_column("quiz_attempts", "quiz_version")
    op.drop_column("content_index", "scoring_policy")
    op.drop_column("content_index", "pass_percent")
