"""Homework submissions ([6/8]): ``submissions`` (one row per version of a learner's work
on a practice, its status and its review; at most one open — draft, submitted or in
review — per learner and practice; teachers know a row by ``review_id`` only) and
``submission_files`` (each file's GridFS id, SHA-256, size and media type).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-09 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('draft', 'submitted', 'in_review') AND deleted_at IS NULL"


def _audit_columns() -> list[sa.Column[object]]:
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
        "submissions",
        *_audit_columns(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("practice_content_id", sa.String(), nullable=False),
        sa.Column("practice_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Uuid(), nullable=True),
        sa.Column(
            "review_id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False
        ),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("text", sa.String(), server_default="", nullable=False),
        sa.Column("links", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Numeric(5, 2), nullable=True),
        sa.Column("rubric", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment", sa.String(), server_default="", nullable=False),
        sa.Column("what_to_fix", sa.String(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'in_review', 'reviewed', 'returned')",
            name=op.f("ck_submissions_status"),
        ),
        sa.CheckConstraint(
            "practice_content_id ~ '^practice:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_submissions_practice_id"),
        ),
        sa.CheckConstraint(
            "version >= 1 AND practice_version >= 1", name=op.f("ck_submissions_version")
        ),
        sa.CheckConstraint(
            "(status = 'draft') = (submitted_at IS NULL)", name=op.f("ck_submissions_submitted_at")
        ),
        sa.CheckConstraint(
            "(status IN ('reviewed', 'returned')) = (reviewed_at IS NOT NULL "
            "AND reviewer_id IS NOT NULL)",
            name=op.f("ck_submissions_reviewed_at"),
        ),
        sa.CheckConstraint(
            "(status = 'reviewed') = (score IS NOT NULL) AND (score BETWEEN 0 AND 100)",
            name=op.f("ck_submissions_score"),
        ),
        sa.CheckConstraint(
            "(status = 'returned') = (what_to_fix IS NOT NULL)",
            name=op.f("ck_submissions_what_to_fix"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_submissions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["submissions.id"], name=op.f("fk_submissions_previous_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_submissions_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_submissions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("review_id", name=op.f("uq_submissions_review_id")),
        sa.UniqueConstraint(
            "user_id",
            "practice_content_id",
            "version",
            name=op.f("uq_submissions_user_id_practice_content_id_version"),
        ),
    )
    op.create_index(op.f("ix_submissions_course_id"), "submissions", ["course_id"], unique=False)
    op.create_index(
        op.f("ix_submissions_previous_id"), "submissions", ["previous_id"], unique=False
    )
    op.create_index(
        op.f("ix_submissions_reviewer_id"), "submissions", ["reviewer_id"], unique=False
    )
    op.create_index(
        "ix_submissions_status_submitted_at_review_id",
        "submissions",
        ["status", "submitted_at", "review_id"],
        unique=False,
    )
    op.create_index("ix_submissions_user_id_id", "submissions", ["user_id", "id"], unique=False)
    op.create_index(
        "uq_submissions_user_id_practice_content_id_open",
        "submissions",
        ["user_id", "practice_content_id"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )
    op.create_table(
        "submission_files",
        *_audit_columns(),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("gridfs_id", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_submission_files_sha256")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_submission_files_size_bytes")),
        sa.CheckConstraint(
            "length(filename) BETWEEN 1 AND 255", name=op.f("ck_submission_files_filename")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_files_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_files")),
        sa.UniqueConstraint("gridfs_id", name=op.f("uq_submission_files_gridfs_id")),
    )
    op.create_index(
        op.f("ix_submission_files_submission_id"),
        "submission_files",
        ["submission_id"],
        unique=False,
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


TABLES = ("submissions", "submission_files")


def downgrade() -> None:
    op.drop_table("submission_files")
    op.drop_table("submissions")
