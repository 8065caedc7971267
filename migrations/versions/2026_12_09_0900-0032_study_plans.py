"""Study plans ([6/8]): ``study_plans`` (whose, which course, which exam),
``study_plan_versions`` (each generation: target date, minutes per day, first day, the
pace chosen, the planner; a regeneration adds one, the others stay) and
``study_plan_items`` (each version's dated items). Whether an item is done is not
stored: it is read from progress (``items_done``, ``competency_mastery``,
``exam_attempts``) whenever a plan is read.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-09 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("study_plans", "study_plan_versions", "study_plan_items")


def _shared() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "study_plans",
        *_shared(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("exam_id", sa.String(), nullable=True),
        sa.CheckConstraint(
            "exam_id ~ '^exam:[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_study_plans_exam_id")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_study_plans_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_study_plans_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_plans")),
    )
    op.create_index(op.f("ix_study_plans_course_id"), "study_plans", ["course_id"])
    op.create_index("ix_study_plans_user_id_id", "study_plans", ["user_id", "id"])
    op.create_table(
        "study_plan_versions",
        *_shared(),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("minutes_per_day", sa.SmallInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("daily_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("planner", sa.String(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_study_plan_versions_version")),
        sa.CheckConstraint(
            "minutes_per_day BETWEEN 10 AND 600",
            name=op.f("ck_study_plan_versions_minutes_per_day"),
        ),
        sa.CheckConstraint(
            "target_date > starts_on", name=op.f("ck_study_plan_versions_target_date")
        ),
        sa.CheckConstraint(
            "daily_minutes BETWEEN 1 AND minutes_per_day",
            name=op.f("ck_study_plan_versions_daily_minutes"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["study_plans.id"], name=op.f("fk_study_plan_versions_plan_id_study_plans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_study_plan_versions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_plan_versions")),
        sa.UniqueConstraint(
            "plan_id", "version", name=op.f("uq_study_plan_versions_plan_id_version")
        ),
    )
    op.create_index(op.f("ix_study_plan_versions_user_id"), "study_plan_versions", ["user_id"])
    op.create_table(
        "study_plan_items",
        *_shared(),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("content_id", sa.String(), nullable=True),
        sa.Column("competency_id", sa.Uuid(), nullable=True),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("part", sa.SmallInteger(), nullable=False),
        sa.Column("parts", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('revision', 'lesson', 'practice', 'quiz', 'exam')",
            name=op.f("ck_study_plan_items_kind"),
        ),
        sa.CheckConstraint(
            "(kind = 'revision') = (competency_id IS NOT NULL) "
            "AND (kind = 'revision') = (content_id IS NULL)",
            name=op.f("ck_study_plan_items_target"),
        ),
        sa.CheckConstraint(
            "content_id IS NULL OR content_id ~ ('^' || kind || ':[a-z0-9]+(-[a-z0-9]+)*$')",
            name=op.f("ck_study_plan_items_content_id"),
        ),
        sa.CheckConstraint("minutes >= 1", name=op.f("ck_study_plan_items_minutes")),
        sa.CheckConstraint("part BETWEEN 1 AND parts", name=op.f("ck_study_plan_items_part")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["study_plan_versions.id"],
            name=op.f("fk_study_plan_items_version_id_study_plan_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_study_plan_items_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_study_plan_items_competency_id_competencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_plan_items")),
        sa.UniqueConstraint(
            "version_id", "position", name=op.f("uq_study_plan_items_version_id_position")
        ),
    )
    op.create_index(op.f("ix_study_plan_items_user_id"), "study_plan_items", ["user_id"])
    op.create_index(
        op.f("ix_study_plan_items_competency_id"), "study_plan_items", ["competency_id"]
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
