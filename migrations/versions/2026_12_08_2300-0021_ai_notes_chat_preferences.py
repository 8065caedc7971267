"""AI notes (one per lesson, concept search by English and Russian stems on a GIN
index), the tutor's chat sessions and messages, and user preferences. Rows of a user go
with a hard-deleted user (ON DELETE CASCADE); erasure deletes them too.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:02:48.016478+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TABLES = ("user_preferences", "ai_notes", "chat_sessions", "chat_messages")

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_preferences",
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
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("voice", sa.String(), nullable=True),
        sa.Column("speech_rate", sa.Float(), nullable=False),
        sa.Column("autoplay", sa.Boolean(), nullable=False),
        sa.Column("daily_goal_minutes", sa.Integer(), nullable=False),
        sa.Column("reminder_time", sa.Time(), nullable=True),
        sa.Column("theme", sa.String(), nullable=False),
        sa.Column("notify_email", sa.Boolean(), nullable=False),
        sa.Column("notify_push", sa.Boolean(), nullable=False),
        sa.CheckConstraint("language IN ('ru', 'en')", name=op.f("ck_user_preferences_language")),
        sa.CheckConstraint(
            "theme IN ('system', 'light', 'dark')", name=op.f("ck_user_preferences_theme")
        ),
        sa.CheckConstraint(
            "daily_goal_minutes BETWEEN 0 AND 1440", name=op.f("ck_user_preferences_daily_goal")
        ),
        sa.CheckConstraint(
            "speech_rate BETWEEN 0.5 AND 2.0", name=op.f("ck_user_preferences_speech_rate")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_preferences_user_id")),
    )
    op.create_table(
        "ai_notes",
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
        sa.Column("lesson_content_id", sa.String(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("lesson_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("generator", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("prompt_version", sa.String(), nullable=False),
        sa.Column("summary_markdown", sa.String(), nullable=False),
        sa.Column("summary_points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("key_concepts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("concept_text", sa.String(), nullable=False),
        sa.Column(
            "concepts",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, concept_text) || to_tsvector('russian'::regconfig, concept_text)",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("generator IN ('offline', 'model')", name=op.f("ck_ai_notes_generator")),
        sa.CheckConstraint(
            "lesson_content_id ~ '^lesson:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_ai_notes_lesson_id"),
        ),
        sa.CheckConstraint("lesson_version >= 1", name=op.f("ck_ai_notes_lesson_version")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_ai_notes_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_notes")),
        sa.UniqueConstraint("lesson_content_id", name=op.f("uq_ai_notes_lesson_content_id")),
    )
    op.create_index(
        "ix_ai_notes_concepts", "ai_notes", ["concepts"], unique=False, postgresql_using="gin"
    )
    op.create_index(op.f("ix_ai_notes_course_id"), "ai_notes", ["course_id"], unique=False)
    op.create_index(
        "ix_ai_notes_key_concepts",
        "ai_notes",
        ["key_concepts"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"key_concepts": "jsonb_path_ops"},
    )
    op.create_table(
        "chat_sessions",
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
        sa.Column("lesson_content_id", sa.String(), nullable=True),
        sa.Column("session_type", sa.String(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "lesson_content_id IS NULL OR lesson_content_id ~ '^lesson:[a-z0-9]+(?:-[a-z0-9]+)*$'",
            name=op.f("ck_chat_sessions_lesson_id"),
        ),
        sa.CheckConstraint(
            "session_type IN ('lesson', 'interactive', 'voice', 'exam_prep')",
            name=op.f("ck_chat_sessions_session_type"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_chat_sessions_ended_at")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_chat_sessions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
    )
    op.create_index(
        op.f("ix_chat_sessions_course_id"), "chat_sessions", ["course_id"], unique=False
    )
    op.create_index(
        "ix_chat_sessions_user_id_started_at",
        "chat_sessions",
        ["user_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "chat_messages",
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
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="complete", nullable=False),
        sa.Column("citations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tts_played", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("tts_audio_url", sa.String(), nullable=True),
        sa.CheckConstraint(
            "role IN ('user', 'assistant', 'system')", name=op.f("ck_chat_messages_role")
        ),
        sa.CheckConstraint(
            "status IN ('complete', 'incomplete')", name=op.f("ck_chat_messages_status")
        ),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0", name=op.f("ck_chat_messages_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_messages_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(
        "ix_chat_messages_session_id_created_at",
        "chat_messages",
        ["session_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_chat_messages_user_id_created_at",
        "chat_messages",
        ["user_id", "created_at"],
        unique=False,
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    op.drop_index("ix_chat_messages_user_id_created_at", table_name="chat_messages")
    op.drop_index("ix_chat_messages_session_id_created_at", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_chat_sessions_user_id_started_at", table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_sessions_course_id"), table_name="chat_sessions")
    op.drop_table("chat_sessions")
    op.drop_index(
        "ix_ai_notes_key_concepts",
        table_name="ai_notes",
        postgresql_using="gin",
        postgresql_ops={"key_concepts": "jsonb_path_ops"},
    )
    op.drop_index(op.f("ix_ai_notes_course_id"), table_name="ai_notes")
    op.drop_index("ix_ai_notes_concepts", table_name="ai_notes", postgresql_using="gin")
    op.drop_table("ai_notes")
    op.drop_table("user_preferences")
