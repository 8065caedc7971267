"""The tutor chat: sessions, the learner's message stored before the model is asked, the
reply streamed and stored when it ends (or cut off, marked incomplete). Services never
commit; the streaming part runs after the request's unit of work has committed and
stores the reply in a unit of work of its own."""

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.access import service as access
from syllabus.ai import context, repository
from syllabus.ai.errors import ChatLocked, ChatSessionEnded, TokenBudgetSpent
from syllabus.ai.models import ChatMessage, ChatSession
from syllabus.ai.provider import ModelProvider, ProviderFailed, estimate_tokens
from syllabus.ai.schemas import (
    ChatMessageCreate,
    ChatMessagePublic,
    ChatSessionCreate,
    ChatSessionPublic,
)
from syllabus.assessment import service as assessment
from syllabus.catalog import service as catalog
from syllabus.content import service as content
from syllabus.db.sql import acting_as, session_scope
from syllabus.errors import NotFound, ValidationFailed
from syllabus.exams import service as exams
from syllabus.identity.models import User

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

HISTORY_MESSAGES = 20
"""How many earlier messages of the session the model sees."""


def session_public(chat: ChatSession, course: str | None) -> ChatSessionPublic:
    assert chat.started_at is not None
    return ChatSessionPublic(
        id=chat.id,
        session_type=chat.session_type,
        course_id=course,
        lesson_id=chat.lesson_content_id,
        started_at=chat.started_at,
        ended_at=chat.ended_at,
        duration_seconds=repository.duration_seconds(chat),
    )


def message_public(message: ChatMessage) -> ChatMessagePublic:
    return ChatMessagePublic.model_validate(message)


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "in": "body", "message": message, "type": "value_error"}],
    )


async def start(*, session: AsyncSession, user: User, data: ChatSessionCreate) -> ChatSessionPublic:
    """A session about a course whose lessons the learner may open, and about one of its
    lessons (which the learner may open) when one is named."""
    if data.kind == "lesson" and data.lesson_id is None:
        raise _field_error("lesson_id", "a lesson session needs the lesson")
    course = await catalog.visible_course(session=session, viewer=user, course_ref=data.course_id)
    context_of: dict[str, object] = {"course_version": course.course.version}
    if data.lesson_id is not None:
        lesson, _ = await content.open_lesson(
            session=session, viewer=user, lesson_id=data.lesson_id
        )
        if lesson.course_id != course.course.content_id:
            raise _field_error("lesson_id", f"{data.lesson_id} is not a lesson of {data.course_id}")
        context_of["lesson_version"] = lesson.version
    else:
        await access.require_open(session=session, viewer=user, course=course, what="course")
    chat = ChatSession(
        user_id=user.id,
        course_id=course.course.id,
        lesson_content_id=data.lesson_id,
        session_type=data.kind,
        context=context_of,
    )
    session.add(chat)
    await session.flush()
    await session.refresh(chat)
    return session_public(chat, course.course.content_id)


async def mine(
    *, session: AsyncSession, user: User, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[ChatSessionPublic]:
    rows = await repository.user_sessions(session, user_id=user.id, after=after, limit=limit)
    return [session_public(chat, course) for chat, course in rows]


async def _session(
    session: AsyncSession, *, user: User, session_id: uuid.UUID, lock: bool = False
) -> tuple[ChatSession, str | None]:
    found = await repository.session_of(session, session_id=session_id, user_id=user.id, lock=lock)
    if found is None:
        raise NotFound(f"no chat session {session_id}")
    return found


async def end(*, session: AsyncSession, user: User, session_id: uuid.UUID) -> ChatSessionPublic:
    """Ending twice answers the same: the first end is kept."""
    chat, course = await _session(session, user=user, session_id=session_id, lock=True)
    await repository.end_session(session, chat=chat)
    return session_public(chat, course)


async def messages(
    *,
    session: AsyncSession,
    user: User,
    session_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ChatMessagePublic]:
    await _session(session, user=user, session_id=session_id)
    rows = await repository.messages(session, session_id=session_id, after=after, limit=limit)
    return [message_public(row) for row in rows]


async def mark_played(
    *, session: AsyncSession, user: User, message_id: uuid.UUID, played: bool
) -> ChatMessagePublic:
    message = await repository.message_of(session, message_id=message_id, user_id=user.id)
    if message is None:
        raise NotFound(f"no chat message {message_id}")
    message.tts_played = played
    await session.flush()
    await session.refresh(message)
    return message_public(message)


def _next_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)


async def _check_budget(session: AsyncSession, *, user: User, budget: int) -> None:
    now = datetime.now(UTC)
    midnight = _next_midnight(now)
    spent = await repository.tokens_since(
        session, user_id=user.id, since=midnight - timedelta(days=1)
    )
    if spent >= budget:
        raise TokenBudgetSpent(budget=budget, retry_after=int((midnight - now).total_seconds()) + 1)


async def _material(
    session: AsyncSession, *, user: User, chat: ChatSession, course: str | None
) -> context.Material:
    """The session's grounding, read again for each message with the learner's rights
    of now (a cancelled enrollment closes the paid lesson to the tutor too)."""
    if chat.lesson_content_id is not None:
        lesson = await content.lesson_document(chat.lesson_content_id)
        await content.open_lesson(session=session, viewer=user, lesson_id=lesson.id)
        note = await repository.note_of(session, lesson.id)
        summary = note.note.summary_markdown if note is not None else None
        return context.lesson_material(title=lesson.title, blocks=lesson.blocks, note=summary)
    row = await catalog.visible_course(session=session, viewer=user, course_ref=course or "")
    await access.require_open(session=session, viewer=user, course=row, what="course")
    outline, _ = await content.course_outline(row.course.content_id)
    return context.outline_material(outline)


@dataclass(frozen=True)
class PreparedReply:
    """What the streaming part needs once the request's unit of work has committed."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    question: ChatMessagePublic
    prompt: list["ChatCompletionMessageParam"]
    material: context.Material


async def ask(
    *,
    session: AsyncSession,
    user: User,
    provider: ModelProvider,
    budget: int,
    session_id: uuid.UUID,
    data: ChatMessageCreate,
) -> PreparedReply:
    """Everything that can refuse the message (no model, the circuit open, the session
    ended, an open attempt, the day's budget), then the learner's message stored: a
    refused message is not stored, an accepted one is never lost."""
    provider.ready()
    chat, course = await _session(session, user=user, session_id=session_id, lock=True)
    if chat.ended_at is not None:
        raise ChatSessionEnded(f"chat session {session_id} has ended")
    if chat.course_id is not None and (
        await assessment.has_open_attempt(session=session, user=user, course_id=chat.course_id)
        or await exams.has_open_attempt(session=session, user=user, course_id=chat.course_id)
    ):
        raise ChatLocked(
            f"the tutor is closed while you have a quiz or exam attempt of {course} open: "
            "submit it first",
        )
    await _check_budget(session, user=user, budget=budget)
    material = await _material(session, user=user, chat=chat, course=course)
    earlier = await repository.history(session, session_id=chat.id, limit=HISTORY_MESSAGES)
    question = ChatMessage(session_id=chat.id, user_id=user.id, role="user", content=data.content)
    session.add(question)
    await session.flush()
    await session.refresh(question)
    prompt: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": context.TUTOR_PROMPT},
        {"role": "system", "content": context.wrap(material)},
    ]
    for message in earlier:
        if message.role == "user":
            prompt.append({"role": "user", "content": message.content})
        elif message.role == "assistant" and message.content:
            prompt.append({"role": "assistant", "content": message.content})
    prompt.append({"role": "user", "content": data.content})
    return PreparedReply(user.id, chat.id, message_public(question), prompt, material)


def sse(event: str, data: object) -> bytes:
    """One server-sent event (``event:`` and one ``data:`` line of JSON)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode()


async def stream_reply(
    *,
    prepared: PreparedReply,
    provider: ModelProvider,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[bytes]:
    """``message`` (the stored question), ``delta`` events as the model writes, then
    ``done`` with the stored reply, or ``error`` (the part received is stored, marked
    incomplete). A client that leaves mid-stream cuts the reply; what arrived is stored
    the same way."""
    yield sse("message", prepared.question.model_dump(mode="json"))
    text, tokens, failure = "", (0, 0), None
    complete = False
    try:
        async for delta in provider.stream(prepared.prompt):
            if delta.done:
                tokens, complete = (delta.prompt_tokens, delta.completion_tokens), True
            else:
                text += delta.text
                yield sse("delta", {"text": delta.text})
    except ProviderFailed as error:
        failure = error
    finally:
        with anyio.CancelScope(shield=True):
            reply = await _store_reply(
                sessionmaker, prepared=prepared, text=text, tokens=tokens, complete=complete
            )
    if failure is not None:
        yield sse(
            "error",
            {
                "code": "ai-provider-timeout"
                if failure.kind == "timeout"
                else "ai-provider-failed",
                "detail": str(failure),
                "message": reply.model_dump(mode="json"),
            },
        )
    else:
        yield sse("done", reply.model_dump(mode="json"))


async def _store_reply(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    prepared: PreparedReply,
    text: str,
    tokens: tuple[int, int],
    complete: bool,
) -> ChatMessagePublic:
    prompt_tokens, completion_tokens = tokens
    if not complete:  # no usage came: charge the estimate, so a cut stream is not free
        prompt_tokens = estimate_tokens(str(prepared.prompt))
        completion_tokens = estimate_tokens(text)
    async with session_scope(sessionmaker) as session:
        with acting_as(prepared.user_id):
            reply = ChatMessage(
                session_id=prepared.session_id,
                user_id=prepared.user_id,
                role="assistant",
                content=text,
                status="complete" if complete else "incomplete",
                citations=context.citations(text, prepared.material),
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
            session.add(reply)
            await session.flush()
            await session.refresh(reply)
            return message_public(reply)
