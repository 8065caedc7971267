"""The activity log: one append-only row per learner event (xAPI-shaped).

Streaks and activity days are computed from it; analysts query it. A trigger refuses
UPDATE, so a statement, once written, never changes. ``occurred_at`` has a BRIN index
(rows arrive in time order, so a tiny index serves date-range scans) and a B-tree per
actor for one learner's history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:44:28.845916+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_log",
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
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("verb", sa.String(), nullable=False),
        sa.Column("object_type", sa.String(), nullable=False),
        sa.Column("object_id", sa.String(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "object_type IN ('course', 'lesson', 'quiz', 'practice', 'achievement', 'user')",
            name=op.f("ck_activity_log_object_type"),
        ),
        sa.CheckConstraint(
            "verb IN ('registered', 'enrolled', 'started', 'completed', 'attempted', 'passed', 'failed', 'earned', 'cancelled')",
            name=op.f("ck_activity_log_verb"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_activity_log_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_activity_log_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_log")),
    )
    op.create_index(
        "ix_activity_log_actor_id_occurred_at",
        "activity_log",
        ["actor_id", "occurred_at"],
        unique=False,
    )
    op.create_index(op.f("ix_activity_log_course_id"), "activity_log", ["course_id"], unique=False)
    op.create_index(
        "ix_activity_log_occurred_at_brin",
        "activity_log",
        ["occurred_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.execute(
        "CREATE TRIGGER activity_log_set_updated_at BEFORE UPDATE ON activity_log "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(NO_UPDATES)
    op.execute(
        "CREATE TRIGGER activity_log_append_only BEFORE UPDATE ON activity_log "
        "FOR EACH ROW EXECUTE FUNCTION activity_log_is_append_only()"
    )


NO_UPDATES = """
CREATE FUNCTION activity_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'activity_log is append-only: rows cannot be updated'
    USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER activity_log_append_only ON activity_log")
    op.execute("DROP FUNCTION activity_log_is_append_only()")
    op.drop_index(
        "ix_activity_log_occurred_at_brin", table_name="activity_log", postgresql_using="brin"
    )
    op.drop_index(op.f("ix_activity_log_course_id"), table_name="activity_log")
    op.drop_index("ix_activity_log_actor_id_occurred_at", table_name="activity_log")
    op.drop_table("activity_log")
