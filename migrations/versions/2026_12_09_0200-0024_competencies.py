"""Competencies ([6/8]): the framework authors load (``competencies``, each recording the
content source that loaded it; the lessons, practices and questions naming each in
``competency_links``), each learner's mastery
(``gap_level`` a generated column: the one rule of competencies/mastery.py), the
evidence behind it (pointing at the exact item versions), and feedback tickets (at most
one open per learner, competency and item).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-09 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "competencies",
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
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("source_id", sa.String(), nullable=True),
        sa.CheckConstraint(
            "code ~ '^[a-z0-9]+(?:[.-][a-z0-9]+)*$'", name=op.f("ck_competencies_code")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["competencies.id"], name=op.f("fk_competencies_parent_id_competencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competencies")),
        sa.UniqueConstraint("code", name=op.f("uq_competencies_code")),
    )
    op.create_index(op.f("ix_competencies_parent_id"), "competencies", ["parent_id"], unique=False)
    op.create_table(
        "competency_evidence",
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
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.String(), nullable=False),
        sa.Column("container_version", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("mastery_after", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.CheckConstraint(
            "source IN ('quiz', 'exam', 'submission')", name=op.f("ck_competency_evidence_source")
        ),
        sa.CheckConstraint(
            "max_points > 0 AND points >= 0 AND points <= max_points",
            name=op.f("ck_competency_evidence_points"),
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_evidence_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_competency_evidence_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_evidence")),
    )
    op.create_index(
        op.f("ix_competency_evidence_competency_id"),
        "competency_evidence",
        ["competency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competency_evidence_source_id"), "competency_evidence", ["source_id"], unique=False
    )
    op.create_index(
        "ix_competency_evidence_user_id_competency_id",
        "competency_evidence",
        ["user_id", "competency_id"],
        unique=False,
    )
    op.create_table(
        "competency_mastery",
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
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("mastery", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column(
            "gap_level",
            sa.SmallInteger(),
            sa.Computed(
                "CASE WHEN mastery >= 0.90 THEN 1 WHEN mastery >= 0.75 THEN 2 WHEN mastery >= 0.50 THEN 3 WHEN mastery >= 0.25 THEN 4 ELSE 5 END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column(
            "observed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "mastery >= 0 AND mastery <= 1", name=op.f("ck_competency_mastery_mastery")
        ),
        sa.CheckConstraint("observations >= 1", name=op.f("ck_competency_mastery_observations")),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_mastery_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_competency_mastery_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_mastery")),
        sa.UniqueConstraint(
            "user_id", "competency_id", name=op.f("uq_competency_mastery_user_id_competency_id")
        ),
    )
    op.create_index(
        op.f("ix_competency_mastery_competency_id"),
        "competency_mastery",
        ["competency_id"],
        unique=False,
    )
    op.create_table(
        "competency_links",
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
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("content_id", sa.String(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "content_id ~ '^(lesson|practice|question):[a-z0-9]+(-[a-z0-9]+)*$'",
            name=op.f("ck_competency_links_content_id"),
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_links_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_competency_links_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_links")),
        sa.UniqueConstraint(
            "competency_id",
            "content_id",
            "course_id",
            name=op.f("uq_competency_links_competency_id_content_id_course_id"),
        ),
    )
    op.create_index(
        "ix_competency_links_course_id_competency_id",
        "competency_links",
        ["course_id", "competency_id"],
        unique=False,
    )
    op.create_table(
        "feedback_tickets",
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
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.String(), nullable=False),
        sa.Column("container_version", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="to_do", nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'done') = (closed_at IS NOT NULL)",
            name=op.f("ck_feedback_tickets_closed_at"),
        ),
        sa.CheckConstraint(
            "source IN ('quiz', 'exam', 'submission')", name=op.f("ck_feedback_tickets_source")
        ),
        sa.CheckConstraint(
            "status IN ('to_do', 'in_progress', 'done')", name=op.f("ck_feedback_tickets_status")
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 3", name=op.f("ck_feedback_tickets_priority")),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_feedback_tickets_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_feedback_tickets_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feedback_tickets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_tickets")),
    )
    op.create_index(
        op.f("ix_feedback_tickets_competency_id"),
        "feedback_tickets",
        ["competency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_feedback_tickets_course_id"), "feedback_tickets", ["course_id"], unique=False
    )
    op.create_index(
        "ix_feedback_tickets_user_id_id", "feedback_tickets", ["user_id", "id"], unique=False
    )
    op.create_index(
        "uq_feedback_tickets_user_id_competency_id_item_id_open",
        "feedback_tickets",
        ["user_id", "competency_id", "item_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'done' AND deleted_at IS NULL"),
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


TABLES = (
    "competencies",
    "competency_links",
    "competency_mastery",
    "competency_evidence",
    "feedback_tickets",
)


def downgrade() -> None:
    op.drop_index(
        "uq_feedback_tickets_user_id_competency_id_item_id_open",
        table_name="feedback_tickets",
        postgresql_where=sa.text("status <> 'done' AND deleted_at IS NULL"),
    )
    op.drop_index("ix_feedback_tickets_user_id_id", table_name="feedback_tickets")
    op.drop_index(op.f("ix_feedback_tickets_course_id"), table_name="feedback_tickets")
    op.drop_index(op.f("ix_feedback_tickets_competency_id"), table_name="feedback_tickets")
    op.drop_table("feedback_tickets")
    op.drop_index("ix_competency_links_course_id_competency_id", table_name="competency_links")
    op.drop_table("competency_links")
    op.drop_index(op.f("ix_competency_mastery_competency_id"), table_name="competency_mastery")
    op.drop_table("competency_mastery")
    op.drop_index("ix_competency_evidence_user_id_competency_id", table_name="competency_evidence")
    op.drop_index(op.f("ix_competency_evidence_source_id"), table_name="competency_evidence")
    op.drop_index(op.f("ix_competency_evidence_competency_id"), table_name="competency_evidence")
    op.drop_table("competency_evidence")
    op.drop_index(op.f("ix_competencies_parent_id"), table_name="competencies")
    op.drop_table("competencies")
