"""Exams ([5/8], docs/exams.md): attempts, their answer log, the expert grading queue
and the append-only result versions (DECISIONS 15).

Guards, for every role (the app's too; docs/exams.md "Sealing"):
- ``exam_attempts``: no UPDATE or DELETE once sealed (the sheet and its hash stay as
  written); no TRUNCATE;
- ``exam_answer_events``: append-only (no UPDATE, DELETE or TRUNCATE), and no INSERT for
  a sealed attempt;
- ``exam_results``: append-only;
- ``exam_expert_grades``: a graded row never changes, nor goes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exam_attempts",
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
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("exam_content_id", sa.String(), nullable=False),
        sa.Column("exam_version", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("variant", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed_by", sa.String(), nullable=True),
        sa.Column("sheet", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("sheet_sha256", sa.String(), nullable=True),
        sa.CheckConstraint(
            "exam_content_id ~ '^exam:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_exam_attempts_exam_id"),
        ),
        sa.CheckConstraint(
            "sealed_by IN ('submit', 'deadline')", name=op.f("ck_exam_attempts_sealed_by")
        ),
        sa.CheckConstraint(
            "sheet_sha256 IS NULL OR sheet_sha256 ~ '^[0-9a-f]{64}$'",
            name=op.f("ck_exam_attempts_sheet_sha256"),
        ),
        sa.CheckConstraint(
            "(sealed_at IS NULL) = (sheet IS NULL) AND (sealed_at IS NULL) = (sheet_sha256 IS NULL) AND (sealed_at IS NULL) = (sealed_by IS NULL)",
            name=op.f("ck_exam_attempts_sealed_whole"),
        ),
        sa.CheckConstraint("attempt_no >= 1", name=op.f("ck_exam_attempts_attempt_no")),
        sa.CheckConstraint(
            "deadline > started_at", name=op.f("ck_exam_attempts_deadline_after_start")
        ),
        sa.CheckConstraint("exam_version >= 1", name=op.f("ck_exam_attempts_exam_version")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_exam_attempts_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exam_attempts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_attempts")),
        sa.UniqueConstraint(
            "user_id",
            "exam_content_id",
            "attempt_no",
            name=op.f("uq_exam_attempts_user_id_exam_content_id_attempt_no"),
        ),
    )
    op.create_index(
        op.f("ix_exam_attempts_course_id"), "exam_attempts", ["course_id"], unique=False
    )
    op.create_index(
        "ix_exam_attempts_deadline_open",
        "exam_attempts",
        ["deadline"],
        unique=False,
        postgresql_where=sa.text("sealed_at IS NULL AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_exam_attempts_exam_content_id", "exam_attempts", ["exam_content_id"], unique=False
    )
    op.create_index(
        "uq_exam_attempts_user_id_exam_content_id_open",
        "exam_attempts",
        ["user_id", "exam_content_id"],
        unique=True,
        postgresql_where=sa.text("sealed_at IS NULL AND deleted_at IS NULL"),
    )
    op.create_table(
        "exam_answer_events",
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
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("task", sa.Integer(), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_exam_answer_events_hash")),
        sa.CheckConstraint(
            "prev_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_exam_answer_events_prev_hash")
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_exam_answer_events_seq")),
        sa.CheckConstraint("task >= 1", name=op.f("ck_exam_answer_events_task")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["exam_attempts.id"],
            name=op.f("fk_exam_answer_events_attempt_id_exam_attempts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_answer_events")),
        sa.UniqueConstraint("attempt_id", "seq", name=op.f("uq_exam_answer_events_attempt_id_seq")),
    )
    op.create_table(
        "exam_expert_grades",
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
        sa.Column("exam_content_id", sa.String(), nullable=False),
        sa.Column("task", sa.Integer(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(), server_default="", nullable=False),
        sa.Column("grader_id", sa.Uuid(), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(points IS NULL) = (graded_at IS NULL)",
            name=op.f("ck_exam_expert_grades_graded_whole"),
        ),
        sa.CheckConstraint(
            "(points IS NULL) = (grader_id IS NULL)",
            name=op.f("ck_exam_expert_grades_grader_with_points"),
        ),
        sa.CheckConstraint(
            "length(comment) <= 4000", name=op.f("ck_exam_expert_grades_comment_length")
        ),
        sa.CheckConstraint(
            "points IS NULL OR points >= 0", name=op.f("ck_exam_expert_grades_points")
        ),
        sa.CheckConstraint("task >= 1", name=op.f("ck_exam_expert_grades_task")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["exam_attempts.id"],
            name=op.f("fk_exam_expert_grades_attempt_id_exam_attempts"),
        ),
        sa.ForeignKeyConstraint(
            ["grader_id"], ["users.id"], name=op.f("fk_exam_expert_grades_grader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_expert_grades")),
        sa.UniqueConstraint(
            "attempt_id", "task", name=op.f("uq_exam_expert_grades_attempt_id_task")
        ),
    )
    op.create_index(
        op.f("ix_exam_expert_grades_grader_id"), "exam_expert_grades", ["grader_id"], unique=False
    )
    op.create_index(
        "ix_exam_expert_grades_pending",
        "exam_expert_grades",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("points IS NULL"),
    )
    op.create_table(
        "exam_results",
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
        sa.Column("primary_score", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("max_primary", sa.Integer(), nullable=False),
        sa.Column("test_score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("task_points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('sealed', 'expert', 'regrade')", name=op.f("ck_exam_results_reason")
        ),
        sa.CheckConstraint(
            "final OR passed IS NULL", name=op.f("ck_exam_results_passed_when_final")
        ),
        sa.CheckConstraint(
            "primary_score >= 0 AND primary_score <= max_primary",
            name=op.f("ck_exam_results_primary"),
        ),
        sa.CheckConstraint("test_score >= 0", name=op.f("ck_exam_results_test_score")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_exam_results_version")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["exam_attempts.id"],
            name=op.f("fk_exam_results_attempt_id_exam_attempts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_results")),
        sa.UniqueConstraint(
            "attempt_id", "version", name=op.f("uq_exam_results_attempt_id_version")
        ),
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    for statement in GUARDS:
        op.execute(statement)


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}() CASCADE")
    op.drop_table("exam_results")
    op.drop_index(
        "ix_exam_expert_grades_pending",
        table_name="exam_expert_grades",
        postgresql_where=sa.text("points IS NULL"),
    )
    op.drop_index(op.f("ix_exam_expert_grades_grader_id"), table_name="exam_expert_grades")
    op.drop_table("exam_expert_grades")
    op.drop_table("exam_answer_events")
    op.drop_index(
        "uq_exam_attempts_user_id_exam_content_id_open",
        table_name="exam_attempts",
        postgresql_where=sa.text("sealed_at IS NULL AND deleted_at IS NULL"),
    )
    op.drop_index("ix_exam_attempts_exam_content_id", table_name="exam_attempts")
    op.drop_index(
        "ix_exam_attempts_deadline_open",
        table_name="exam_attempts",
        postgresql_where=sa.text("sealed_at IS NULL AND deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_exam_attempts_course_id"), table_name="exam_attempts")
    op.drop_table("exam_attempts")


TABLES = ("exam_attempts", "exam_answer_events", "exam_expert_grades", "exam_results")
FUNCTIONS = (
    "exam_attempts_refuse_changes",
    "exam_answer_events_refuse_sealed",
    "exam_expert_grades_refuse_changes",
)
GUARDS = (
    """
CREATE FUNCTION exam_attempts_refuse_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.sealed_at IS NOT NULL THEN
    RAISE EXCEPTION 'exam attempt % is sealed and cannot change', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$
""",
    "CREATE TRIGGER exam_attempts_sealed BEFORE UPDATE OR DELETE ON exam_attempts "
    "FOR EACH ROW EXECUTE FUNCTION exam_attempts_refuse_changes()",
    """
CREATE FUNCTION exam_answer_events_refuse_sealed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM exam_attempts WHERE id = NEW.attempt_id AND sealed_at IS NOT NULL)
  THEN
    RAISE EXCEPTION 'exam attempt % is sealed: no more answers', NEW.attempt_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$
""",
    "CREATE TRIGGER exam_answer_events_sealed BEFORE INSERT ON exam_answer_events "
    "FOR EACH ROW EXECUTE FUNCTION exam_answer_events_refuse_sealed()",
    """
CREATE FUNCTION exam_expert_grades_refuse_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.points IS NOT NULL THEN
    RAISE EXCEPTION 'expert grade % is given and cannot change', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$
""",
    "CREATE TRIGGER exam_expert_grades_given BEFORE UPDATE OR DELETE ON exam_expert_grades "
    "FOR EACH ROW EXECUTE FUNCTION exam_expert_grades_refuse_changes()",
    # refuse_change() is migration 0010's: it refuses whatever it guards, with a reason.
    "CREATE TRIGGER exam_answer_events_append_only BEFORE UPDATE OR DELETE "
    "ON exam_answer_events FOR EACH ROW EXECUTE FUNCTION refuse_change('append-only')",
    "CREATE TRIGGER exam_results_append_only BEFORE UPDATE OR DELETE "
    "ON exam_results FOR EACH ROW EXECUTE FUNCTION refuse_change('append-only')",
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('append-only')"
        for table in TABLES
    ),
)
