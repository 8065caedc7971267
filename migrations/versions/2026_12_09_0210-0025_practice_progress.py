"""Practices can be done ([6/8]): ``practice_progress`` holds a learner's practices marked
done (through ``PUT /progress/practices/{id}``, or an accepted submission), and the
``items_done`` view (``progress``'s rule, migration 0009) counts them, so a practice's
points and a course's rollup include it. The view keeps its columns, so the views that
read it stand.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-09 02:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practice_progress",
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
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "practice_content_id ~ '^practice:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_practice_progress_practice_id"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_practice_progress_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practice_progress_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_progress")),
        sa.UniqueConstraint(
            "user_id",
            "practice_content_id",
            name=op.f("uq_practice_progress_user_id_practice_content_id"),
        ),
    )
    op.create_index(
        "ix_practice_progress_course_id_user_id",
        "practice_progress",
        ["course_id", "user_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER practice_progress_set_updated_at BEFORE UPDATE ON practice_progress "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(f"CREATE OR REPLACE VIEW items_done AS {ITEMS_DONE}")


ITEMS_DONE = """
    SELECT user_id, lesson_content_id AS item_id FROM lesson_progress
    WHERE status = 'completed' AND deleted_at IS NULL
    UNION ALL
    SELECT user_id, quiz_id FROM quiz_standings WHERE passed
    UNION ALL
    SELECT user_id, practice_content_id FROM practice_progress WHERE deleted_at IS NULL
"""


def downgrade() -> None:
    rules: dict[str, str] = context.script.get_revision("0009").module.RULES
    op.execute(f"CREATE OR REPLACE VIEW items_done AS {rules['items_done']}")
    op.drop_index("ix_practice_progress_course_id_user_id", table_name="practice_progress")
    op.drop_table("practice_progress")
