"""Seed schema: every PostgreSQL table of the service, its constraints and indexes.

Also installs two functions every table relies on:
- ``uuid_generate_v7()``: the database-side default for ``id`` (PostgreSQL 16 has no
  built-in UUIDv7), so rows inserted by SQL or COPY get time-ordered keys too;
- ``set_updated_at()``: a BEFORE UPDATE trigger that stamps ``updated_at`` on every write.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:44:27.613412+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = (
    "achievements",
    "categories",
    "users",
    "auth_refresh_tokens",
    "tracks",
    "user_achievements",
    "courses",
    "enrollments",
    "lesson_progress",
    "quiz_attempts",
)

UUID_V7_FUNCTION = """
CREATE FUNCTION uuid_generate_v7() RETURNS uuid
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
  -- RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, then 12 bits of sub-millisecond
  -- time (method 3) so ids from one server sort by creation, then random bits with the
  -- RFC 4122 variant kept from gen_random_uuid().
  micros bigint := floor(extract(epoch FROM clock_timestamp()) * 1000000);
  fraction int := ((micros % 1000) * 4096 / 1000)::int;
  bytes bytea := uuid_send(gen_random_uuid());
BEGIN
  bytes := overlay(bytes PLACING substring(int8send(micros / 1000) FROM 3) FROM 1 FOR 6);
  bytes := set_byte(bytes, 6, 112 | (fraction >> 8));
  bytes := set_byte(bytes, 7, fraction & 255);
  RETURN encode(bytes, 'hex')::uuid;
END
$$
"""

SET_UPDATED_AT_FUNCTION = """
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute(UUID_V7_FUNCTION)
    op.execute(SET_UPDATED_AT_FUNCTION)
    _create_tables()
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    _drop_tables()
    op.execute("DROP FUNCTION set_updated_at()")
    op.execute("DROP FUNCTION uuid_generate_v7()")


def _create_tables() -> None:
    op.create_table(
        "achievements",
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
        sa.Column("rarity", sa.String(), server_default="common", nullable=False),
        sa.Column("rule", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "code ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_achievements_code")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(rule) = 'object'", name=op.f("ck_achievements_rule_object")
        ),
        sa.CheckConstraint(
            "rarity IN ('common', 'uncommon', 'rare', 'epic', 'legendary')",
            name=op.f("ck_achievements_rarity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievements")),
        sa.UniqueConstraint("code", name=op.f("uq_achievements_code")),
    )
    op.create_table(
        "categories",
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
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_categories_slug")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_table(
        "users",
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
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), server_default="student", nullable=False),
        sa.Column("email_verified", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("time_zone", sa.String(), server_default="UTC", nullable=False),
        sa.CheckConstraint(
            "email = lower(btrim(email)) AND email LIKE '%_@_%'", name=op.f("ck_users_email")
        ),
        sa.CheckConstraint("role IN ('student', 'author', 'admin')", name=op.f("ck_users_role")),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name=op.f("ck_users_name_length")),
        sa.CheckConstraint("length(time_zone) BETWEEN 1 AND 64", name=op.f("ck_users_time_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("ix_users_role", "users", ["role"], unique=False)
    op.create_index(
        "uq_users_email_live",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "auth_refresh_tokens",
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
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "token_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_auth_refresh_tokens_token_hash_sha256")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"],
            ["auth_refresh_tokens.id"],
            name=op.f("fk_auth_refresh_tokens_replaced_by_auth_refresh_tokens"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_refresh_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_auth_refresh_tokens_family_id"), "auth_refresh_tokens", ["family_id"], unique=False
    )
    op.create_index(
        op.f("ix_auth_refresh_tokens_replaced_by"),
        "auth_refresh_tokens",
        ["replaced_by"],
        unique=False,
    )
    op.create_index(
        op.f("ix_auth_refresh_tokens_user_id"), "auth_refresh_tokens", ["user_id"], unique=False
    )
    op.create_table(
        "tracks",
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
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_tracks_slug")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_tracks_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
        sa.UniqueConstraint("slug", name=op.f("uq_tracks_slug")),
    )
    op.create_index(op.f("ix_tracks_category_id"), "tracks", ["category_id"], unique=False)
    op.create_table(
        "user_achievements",
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
        sa.Column("achievement_id", sa.Uuid(), nullable=False),
        sa.Column(
            "awarded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("seen", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name=op.f("fk_user_achievements_achievement_id_achievements"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_achievements_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_achievements")),
        sa.UniqueConstraint(
            "user_id", "achievement_id", name=op.f("uq_user_achievements_user_id_achievement_id")
        ),
    )
    op.create_index(
        op.f("ix_user_achievements_achievement_id"),
        "user_achievements",
        ["achievement_id"],
        unique=False,
    )
    op.create_table(
        "courses",
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
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="draft", nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.CheckConstraint("content_id = 'course:' || slug", name=op.f("ck_courses_content_id")),
        sa.CheckConstraint(
            "level IN ('Beginner', 'Elementary', 'Intermediate', 'Advanced', 'Expert')",
            name=op.f("ck_courses_level"),
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'", name=op.f("ck_courses_slug")),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_courses_status")
        ),
        sa.CheckConstraint(
            "price_cents IS NULL OR price_cents >= 0", name=op.f("ck_courses_price_cents")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_courses_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_courses_track_id_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("content_id", name=op.f("uq_courses_content_id")),
    )
    op.create_index(op.f("ix_courses_category_id"), "courses", ["category_id"], unique=False)
    op.create_index(
        "ix_courses_status_category_id", "courses", ["status", "category_id"], unique=False
    )
    op.create_index(op.f("ix_courses_track_id"), "courses", ["track_id"], unique=False)
    op.create_table(
        "enrollments",
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
        sa.Column("status", sa.String(), server_default="active", nullable=False),
        sa.Column(
            "enrolled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at IS NOT NULL)",
            name=op.f("ck_enrollments_completed_at"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'cancelled')", name=op.f("ck_enrollments_status")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_enrollments_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    op.create_index(op.f("ix_enrollments_course_id"), "enrollments", ["course_id"], unique=False)
    op.create_index(op.f("ix_enrollments_user_id"), "enrollments", ["user_id"], unique=False)
    op.create_index(
        "uq_enrollments_user_id_course_id_live",
        "enrollments",
        ["user_id", "course_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled' AND deleted_at IS NULL"),
    )
    op.create_table(
        "lesson_progress",
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
        sa.Column("lesson_content_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="started", nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bookmarked", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("position", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at IS NOT NULL)",
            name=op.f("ck_lesson_progress_completed_at"),
        ),
        sa.CheckConstraint(
            "lesson_content_id ~ '^lesson:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_lesson_progress_lesson_id"),
        ),
        sa.CheckConstraint(
            "status IN ('started', 'completed')", name=op.f("ck_lesson_progress_status")
        ),
        sa.CheckConstraint("length(note) <= 10000", name=op.f("ck_lesson_progress_note_length")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_lesson_progress_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lesson_progress_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_progress")),
        sa.UniqueConstraint(
            "user_id",
            "lesson_content_id",
            name=op.f("uq_lesson_progress_user_id_lesson_content_id"),
        ),
    )
    op.create_index(
        "ix_lesson_progress_course_id_user_id",
        "lesson_progress",
        ["course_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "quiz_attempts",
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
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("quiz_content_id", sa.String(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("max_score", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "quiz_content_id ~ '^quiz:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_quiz_attempts_quiz_id"),
        ),
        sa.CheckConstraint("attempt_no >= 1", name=op.f("ck_quiz_attempts_attempt_no")),
        sa.CheckConstraint(
            "max_score IS NULL OR max_score >= 0", name=op.f("ck_quiz_attempts_max_score")
        ),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= max_score)",
            name=op.f("ck_quiz_attempts_score"),
        ),
        sa.CheckConstraint(
            "submitted_at IS NULL OR submitted_at >= started_at",
            name=op.f("ck_quiz_attempts_submitted_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_quiz_attempts_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_attempts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint(
            "user_id",
            "quiz_content_id",
            "attempt_no",
            name=op.f("uq_quiz_attempts_user_id_quiz_content_id_attempt_no"),
        ),
    )
    op.create_index(
        op.f("ix_quiz_attempts_course_id"), "quiz_attempts", ["course_id"], unique=False
    )
    op.create_index(
        "ix_quiz_attempts_quiz_content_id", "quiz_attempts", ["quiz_content_id"], unique=False
    )


def _drop_tables() -> None:
    op.drop_index("ix_quiz_attempts_quiz_content_id", table_name="quiz_attempts")
    op.drop_index(op.f("ix_quiz_attempts_course_id"), table_name="quiz_attempts")
    op.drop_table("quiz_attempts")
    op.drop_index("ix_lesson_progress_course_id_user_id", table_name="lesson_progress")
    op.drop_table("lesson_progress")
    op.drop_index(
        "uq_enrollments_user_id_course_id_live",
        table_name="enrollments",
        postgresql_where=sa.text("status <> 'cancelled' AND deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_enrollments_user_id"), table_name="enrollments")
    op.drop_index(op.f("ix_enrollments_course_id"), table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_index(op.f("ix_courses_track_id"), table_name="courses")
    op.drop_index("ix_courses_status_category_id", table_name="courses")
    op.drop_index(op.f("ix_courses_category_id"), table_name="courses")
    op.drop_table("courses")
    op.drop_index(op.f("ix_user_achievements_achievement_id"), table_name="user_achievements")
    op.drop_table("user_achievements")
    op.drop_index(op.f("ix_tracks_category_id"), table_name="tracks")
    op.drop_table("tracks")
    op.drop_index(op.f("ix_auth_refresh_tokens_user_id"), table_name="auth_refresh_tokens")
    op.drop_index(op.f("ix_auth_refresh_tokens_replaced_by"), table_name="auth_refresh_tokens")
    op.drop_index(op.f("ix_auth_refresh_tokens_family_id"), table_name="auth_refresh_tokens")
    op.drop_table("auth_refresh_tokens")
    op.drop_index(
        "uq_users_email_live", table_name="users", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index("ix_users_role", table_name="users")
    op.drop_table("users")
    op.drop_table("categories")
    op.drop_table("achievements")
