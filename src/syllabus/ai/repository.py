"""SQL of the AI layer: notes (with what the content index says of their lessons),
chat sessions and messages, and the day's token spend."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.ai.models import AiNote, ChatMessage, ChatSession
from syllabus.catalog.models import ContentIndex, Course


@dataclass(frozen=True)
class LessonToNote:
    lesson_id: str
    course_id: uuid.UUID
    version: int
    noted_version: int | None
    """The version the existing note was made from; None: no note yet."""
    generator: str | None


async def lessons_to_note(
    session: AsyncSession, *, course: str | None, stale_only: bool, generator: str
) -> list[LessonToNote]:
    """Active lessons whose note is missing or made from an older version (or by the
    offline generator, when the model is asked for), in course and outline order."""
    query = (
        select(
            col(ContentIndex.content_id),
            col(ContentIndex.course_id),
            col(ContentIndex.version),
            col(AiNote.lesson_version),
            col(AiNote.generator),
        )
        .join(Course, col(Course.id) == col(ContentIndex.course_id))
        .outerjoin(AiNote, col(AiNote.lesson_content_id) == col(ContentIndex.content_id))
        .where(col(ContentIndex.item_type) == "lesson", col(ContentIndex.status) == "active")
        .order_by(col(Course.content_id), col(ContentIndex.position))
    )
    if course is not None:
        query = query.where(col(Course.content_id) == course)
    outdated = col(AiNote.lesson_version) != col(ContentIndex.version)
    if generator == "model":
        outdated = or_(outdated, col(AiNote.generator) != "model")
    if stale_only:
        query = query.where(col(AiNote.id).is_not(None), outdated)
    else:
        query = query.where(or_(col(AiNote.id).is_(None), outdated))
    rows = (await session.execute(query)).all()
    return [LessonToNote(*row) for row in rows]


async def save_note(session: AsyncSession, values: dict[str, Any]) -> None:
    """One note per lesson: a newer one replaces it (the lesson's version moved on)."""
    statement = insert(AiNote).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[AiNote.lesson_content_id],
        set_={name: statement.excluded[name] for name in values if name != "lesson_content_id"},
    )
    await session.execute(statement)


@dataclass(frozen=True)
class NoteRow:
    note: AiNote
    lesson_title: str
    current_version: int
    course: str
    """The course's content id."""
    course_status: str
    paid: bool
    preview: bool


def _note_rows() -> Any:
    return (
        select(
            AiNote,
            col(ContentIndex.title),
            col(ContentIndex.version),
            col(Course.content_id),
            col(Course.status),
            func.coalesce(col(Course.price_cents), 0) > 0,
            col(ContentIndex.preview),
        )
        .join(ContentIndex, col(ContentIndex.content_id) == col(AiNote.lesson_content_id))
        .join(Course, col(Course.id) == col(ContentIndex.course_id))
        .where(col(ContentIndex.status) == "active")
    )


async def note_of(session: AsyncSession, lesson_id: str) -> NoteRow | None:
    row = (
        await session.execute(_note_rows().where(col(AiNote.lesson_content_id) == lesson_id))
    ).one_or_none()
    return None if row is None else NoteRow(*row)


async def search_notes(
    session: AsyncSession, *, concept: str, after: str | None, limit: int, drafts: bool
) -> list[NoteRow]:
    """Notes whose key concepts match ``concept`` in English or Russian word forms
    (stemmed full-text search on the GIN-indexed vector), by lesson id, ``limit`` rows;
    published courses only unless ``drafts`` (staff)."""
    matches = func.plainto_tsquery("english", concept).op("||")(
        func.plainto_tsquery("russian", concept)
    )
    query = _note_rows().where(col(AiNote.concepts).op("@@")(matches))
    if not drafts:
        query = query.where(col(Course.status) == "published")
    if after is not None:
        query = query.where(col(AiNote.lesson_content_id) > after)
    query = query.order_by(col(AiNote.lesson_content_id)).limit(limit)
    return [NoteRow(*row) for row in (await session.execute(query)).all()]


async def user_sessions(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[ChatSession, str | None]]:
    """The user's chat sessions, newest first, with their course's content id; ``limit + 1``."""
    query = (
        select(ChatSession, col(Course.content_id))
        .outerjoin(Course, col(Course.id) == col(ChatSession.course_id))
        .where(col(ChatSession.user_id) == user_id)
        .order_by(col(ChatSession.started_at).desc(), col(ChatSession.id).desc())
        .limit(limit + 1)
    )
    if after is not None:
        started, session_id = after
        query = query.where(
            or_(
                col(ChatSession.started_at) < started,
                and_(col(ChatSession.started_at) == started, col(ChatSession.id) < session_id),
            )
        )
    return [(row, course) for row, course in (await session.execute(query)).all()]


async def session_of(
    session: AsyncSession, *, session_id: uuid.UUID, user_id: uuid.UUID, lock: bool = False
) -> tuple[ChatSession, str | None] | None:
    query = (
        select(ChatSession, col(Course.content_id))
        .outerjoin(Course, col(Course.id) == col(ChatSession.course_id))
        .where(col(ChatSession.id) == session_id, col(ChatSession.user_id) == user_id)
    )
    if lock:
        query = query.with_for_update(of=ChatSession)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def messages(
    session: AsyncSession,
    *,
    session_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ChatMessage]:
    """A session's messages, oldest first, ``limit + 1`` rows."""
    query = (
        select(ChatMessage)
        .where(col(ChatMessage.session_id) == session_id)
        .order_by(col(ChatMessage.created_at), col(ChatMessage.id))
        .limit(limit + 1)
    )
    if after is not None:
        created, message_id = after
        query = query.where(
            or_(
                col(ChatMessage.created_at) > created,
                and_(col(ChatMessage.created_at) == created, col(ChatMessage.id) > message_id),
            )
        )
    return list((await session.execute(query)).scalars())


async def history(session: AsyncSession, *, session_id: uuid.UUID, limit: int) -> list[ChatMessage]:
    """The last ``limit`` messages of a session, oldest first (the model's memory)."""
    query = (
        select(ChatMessage)
        .where(col(ChatMessage.session_id) == session_id)
        .order_by(col(ChatMessage.created_at).desc(), col(ChatMessage.id).desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(query)).scalars().all()))


async def message_of(
    session: AsyncSession, *, message_id: uuid.UUID, user_id: uuid.UUID
) -> ChatMessage | None:
    query = select(ChatMessage).where(
        col(ChatMessage.id) == message_id, col(ChatMessage.user_id) == user_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def tokens_since(session: AsyncSession, *, user_id: uuid.UUID, since: datetime) -> int:
    query = select(
        func.coalesce(
            func.sum(col(ChatMessage.prompt_tokens) + col(ChatMessage.completion_tokens)), 0
        )
    ).where(col(ChatMessage.user_id) == user_id, col(ChatMessage.created_at) >= since)
    return int((await session.execute(query)).scalar_one())


async def end_session(session: AsyncSession, *, chat: ChatSession) -> None:
    await session.execute(
        update(ChatSession)
        .where(col(ChatSession.id) == chat.id, col(ChatSession.ended_at).is_(None))
        .values(ended_at=func.statement_timestamp())
    )
    await session.refresh(chat)


async def erase_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Erasure: the learner's words and the replies to them are personal; they go."""
    await session.execute(delete(ChatMessage).where(col(ChatMessage.user_id) == user_id))
    await session.execute(delete(ChatSession).where(col(ChatSession.user_id) == user_id))


def duration_seconds(chat: ChatSession) -> int | None:
    if chat.ended_at is None or chat.started_at is None:
        return None
    return int((chat.ended_at - chat.started_at).total_seconds())
