"""The content index and catalog search.

- ``content_index``: every lesson, quiz and practice with its course, module, position,
  title, version, points and whether it is required, synced by ``syllabus content load``;
- ``courses.version`` / ``content_hash``: which content version the catalog card shows;
- ``courses.search``: a generated English + Russian tsvector over title and description,
  with a GIN index, for ``GET /courses?q=``;
- ``content_loads``: the fingerprint of each folder state the catalog was synced from,
  so an unchanged re-load can stop early.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:24:16.889594+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_loads",
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
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("mongo_writes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_loads")),
    )
    op.execute(
        "CREATE TRIGGER content_loads_set_updated_at BEFORE UPDATE ON content_loads "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.create_table(
        "content_index",
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
        sa.Column("content_id", sa.String(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("item_type", sa.String(), nullable=False),
        sa.Column("module_id", sa.String(), nullable=False),
        sa.Column("module_title", sa.String(), nullable=False),
        sa.Column("module_order", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("preview", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.String(), server_default="active", nullable=False),
        sa.CheckConstraint(
            "content_id ~ ('^' || item_type || ':[a-z0-9]+(?:-[a-z0-9]+)*$')",
            name=op.f("ck_content_index_content_id"),
        ),
        sa.CheckConstraint(
            "item_type IN ('lesson', 'quiz', 'practice')", name=op.f("ck_content_index_item_type")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'archived')", name=op.f("ck_content_index_status")
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_content_index_points")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_content_index_version")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_content_index_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_index")),
        sa.UniqueConstraint("content_id", name=op.f("uq_content_index_content_id")),
    )
    op.create_index(
        "ix_content_index_course_id_position",
        "content_index",
        ["course_id", "position"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER content_index_set_updated_at BEFORE UPDATE ON content_index "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.add_column("courses", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("courses", sa.Column("content_hash", sa.String(), nullable=True))
    op.add_column(
        "courses",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('russian'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, description), 'B') || setweight(to_tsvector('russian'::regconfig, description), 'B')",
                persisted=True,
            ),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_courses_search", "courses", ["search"], unique=False, postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_table("content_loads")
    op.drop_index("ix_courses_search", table_name="courses", postgresql_using="gin")
    op.drop_column("courses", "search")
    op.drop_column("courses", "content_hash")
    op.drop_column("courses", "version")
    op.drop_index("ix_content_index_course_id_position", table_name="content_index")
    op.drop_table("content_index")
