"""The AI layer's tables: one note per lesson (the version it was made from, so a
changed lesson shows its note as stale), and the tutor's chat sessions and messages.

Notes live in PostgreSQL, not MongoDB: their key concepts are searched by word form
(a generated ``tsvector`` over English and Russian stems, GIN-indexed) and analysts can
query them in SQL beside the catalog (docs/architecture.md, "AI notes")."""

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import CheckConstraint, Column, Computed, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.vocabulary import sql_in, values

NoteGenerator = Literal["offline", "model"]
SessionType = Literal["lesson", "interactive", "voice", "exam_prep"]
MessageRole = Literal["user", "assistant", "system"]
MessageStatus = Literal["complete", "incomplete"]
"""An assistant reply cut off by a disconnect or a provider failure is kept, marked."""

CONCEPT_VECTOR = (
    "to_tsvector('english'::regconfig, concept_text) || "
    "to_tsvector('russian'::regconfig, concept_text)"
)


class AiNote(Base, table=True):
    __tablename__ = "ai_notes"
    __table_args__ = (
        CheckConstraint(f"lesson_content_id ~ '^lesson:{SLUG_PATTERN}$'", name="lesson_id"),
        CheckConstraint(sql_in("generator", values(NoteGenerator)), name="generator"),
        CheckConstraint("lesson_version >= 1", name="lesson_version"),
        Index("ix_ai_notes_concepts", "concepts", postgresql_using="gin"),
        Index(
            "ix_ai_notes_key_concepts",
            "key_concepts",
            postgresql_using="gin",
            postgresql_ops={"key_concepts": "jsonb_path_ops"},
        ),
    )

    lesson_content_id: str = Field(unique=True)
    course_id: uuid.UUID = Field(foreign_key="courses.id", index=True)
    lesson_version: int
    content_hash: str
    generator: str
    model: str | None = None
    prompt_version: str
    summary_markdown: str
    summary_points: list[dict[str, Any]] = Field(sa_type=JSONB)
    """``[{"text": …, "block_ids": […]}]``: each point cites the lesson blocks it is from."""
    key_concepts: list[dict[str, Any]] = Field(sa_type=JSONB)
    """``[{"term": …, "definition": …, "block_ids": […]}]``."""
    concept_text: str
    """The terms and definitions as one text, which the search vector is built from."""
    concepts: str | None = Field(
        default=None,
        sa_column=Column(TSVECTOR, Computed(CONCEPT_VECTOR, persisted=True)),
        exclude=True,
    )
    generated_at: datetime = Field(sa_type=DateTime(timezone=True))


class ChatSession(Base, table=True):
    __tablename__ = "chat_sessions"
    __table_args__ = (
        CheckConstraint(sql_in("session_type", values(SessionType)), name="session_type"),
        CheckConstraint(
            f"lesson_content_id IS NULL OR lesson_content_id ~ '^lesson:{SLUG_PATTERN}$'",
            name="lesson_id",
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ended_at"),
        Index("ix_chat_sessions_user_id_started_at", "user_id", "started_at"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", index=True)
    lesson_content_id: str | None = None
    session_type: str
    started_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    ended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    """What the session was opened with (the course outline's version, the lesson's)."""


class ChatMessage(Base, table=True):
    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(sql_in("role", values(MessageRole)), name="role"),
        CheckConstraint(sql_in("status", values(MessageStatus)), name="status"),
        CheckConstraint("prompt_tokens >= 0 AND completion_tokens >= 0", name="tokens"),
        Index("ix_chat_messages_session_id_created_at", "session_id", "created_at"),
        Index("ix_chat_messages_user_id_created_at", "user_id", "created_at"),
    )

    session_id: uuid.UUID = Field(foreign_key="chat_sessions.id", ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    """Denormalised from the session: the daily token budget sums one user's rows."""
    role: str
    content: str
    status: str = Field(default="complete", sa_column_kwargs={"server_default": "complete"})
    citations: list[str] = Field(default_factory=list, sa_type=JSONB)
    """Block ids of the lesson the reply cites (only ids that were in its context)."""
    prompt_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    completion_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    tts_played: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    tts_audio_url: str | None = None
