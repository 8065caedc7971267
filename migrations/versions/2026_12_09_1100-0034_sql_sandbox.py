"""The SQL-practice sandbox ([6/8]), made as the owner (DECISIONS 8), and the record of
automatic practice checks.

- ``syllabus_sandbox`` (LOGIN, no attributes, NOINHERIT): the only role learners'
  queries run as, on connections of its own. Defaults that hold even before the checker
  sets them per transaction: read-only transactions, a statement timeout, an idle
  timeout, at most 20 connections. It is given nothing on the service's tables; it
  reads the sandbox schemas only (granted per schema when one is made).
- ``syllabus_sandbox_owner`` (NOLOGIN): owns the sandbox schemas (``sandbox_<practice>_
  <digest>``), may create schemas in this database and nothing else. The app role becomes
  a member (``syllabus.db.roles.grant_app``) to create a practice's schema; the owner
  too, so that this migration's downgrade can drop them.
- ``practice_check_runs``: each automatic check of a learner's answer, its outcome and
  message; ``competency_evidence`` and ``feedback_tickets`` take ``source = 'check'``.

Roles belong to the server, not to one database: created when missing, and the
downgrade drops them only when no other database still uses them.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-09 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READER = "syllabus_sandbox"
BUILDER = "syllabus_sandbox_owner"
SOURCES_BEFORE = "('quiz', 'exam', 'submission')"
SOURCES = "('quiz', 'exam', 'submission', 'check')"


def upgrade() -> None:
    op.execute(f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
    CREATE ROLE "{READER}" LOGIN NOINHERIT CONNECTION LIMIT 20;
    ALTER ROLE "{READER}" SET default_transaction_read_only = on;
    ALTER ROLE "{READER}" SET statement_timeout = '5s';
    ALTER ROLE "{READER}" SET idle_in_transaction_session_timeout = '10s';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BUILDER}') THEN
    CREATE ROLE "{BUILDER}" NOLOGIN NOINHERIT;
  END IF;
  EXECUTE format('GRANT CREATE ON DATABASE %I TO "{BUILDER}"', current_database());
  BEGIN
    EXECUTE format('GRANT "{BUILDER}" TO %I', current_user);
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'not granted {BUILDER} to %: another role administers it', current_user;
  END;
END $$""")
    op.create_table(
        "practice_check_runs",
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
        sa.Column("practice_content_id", sa.String(), nullable=False),
        sa.Column("practice_version", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.CheckConstraint(
            "practice_content_id ~ '^practice:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_practice_check_runs_practice_id"),
        ),
        sa.CheckConstraint(
            "length(answer) <= 20000", name=op.f("ck_practice_check_runs_answer_length")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_practice_check_runs_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practice_check_runs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_check_runs")),
    )
    op.create_index(
        "ix_practice_check_runs_user_id_practice_content_id",
        "practice_check_runs",
        ["user_id", "practice_content_id"],
        unique=False,
    )
    op.create_index(op.f("ix_practice_check_runs_course_id"), "practice_check_runs", ["course_id"])
    op.execute(
        "CREATE TRIGGER practice_check_runs_set_updated_at BEFORE UPDATE ON practice_check_runs "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    _sources(SOURCES)


def _sources(allowed: str) -> None:
    for table in ("competency_evidence", "feedback_tickets"):
        op.drop_constraint(op.f(f"ck_{table}_source"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_source"), table, f"source IN {allowed}")


def downgrade() -> None:
    for table in ("competency_evidence", "feedback_tickets"):
        op.execute(f"DELETE FROM {table} WHERE source = 'check'")
    _sources(SOURCES_BEFORE)
    op.drop_table("practice_check_runs")
    op.execute(f"""DO $$
DECLARE item record;
BEGIN
  FOR item IN SELECT nspname FROM pg_namespace WHERE nspowner = '{BUILDER}'::regrole LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', item.nspname);
  END LOOP;
  EXECUTE format('REVOKE CREATE ON DATABASE %I FROM "{BUILDER}"', current_database());
  BEGIN
    DROP ROLE "{BUILDER}";
    DROP ROLE "{READER}";
  EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'sandbox roles kept: another database still uses them';
  END;
END $$""")
