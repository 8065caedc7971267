"""HTTP of the AI layer: lesson notes and concept search, the tutor chat (the reply as
server-sent events), and nothing that needs a model when none is configured."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from syllabus.access.service import EnrollmentRequired
from syllabus.ai import chat, notes
from syllabus.ai.errors import (
    AiNotConfigured,
    AiNoteMissing,
    AiUnavailable,
    ChatLocked,
    ChatSessionEnded,
    TokenBudgetSpent,
)
from syllabus.ai.provider import ModelProvider
from syllabus.ai.schemas import (
    AiNoteHit,
    AiNotePublic,
    ChatMessageCreate,
    ChatMessagePublic,
    ChatMessageUpdate,
    ChatSessionCreate,
    ChatSessionPublic,
    ConceptQuery,
)
from syllabus.content.schemas import LessonRef
from syllabus.deps import SessionDep, SessionmakerDep, SettingsDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import ANONYMOUS_TOO, SIGNED_IN_PROBLEMS, CurrentUser, OptionalUser
from syllabus.kit.pagination import Page, Paging, key_datetime

router = APIRouter(tags=["ai"], responses=problem_responses(*SIGNED_IN_PROBLEMS))


def _lesson_key(key: list[object]) -> str:
    (lesson_id,) = key
    if not isinstance(lesson_id, str):
        raise TypeError
    return lesson_id


def _time_key(key: list[object]) -> tuple[datetime, uuid.UUID]:
    at, row_id = key
    return key_datetime(at), uuid.UUID(str(row_id))


@router.get(
    "/lessons/{lesson_id}/ai-notes",
    responses=problem_responses(EnrollmentRequired, NotFound, AiNoteMissing),
    openapi_extra=ANONYMOUS_TOO,
    summary="The AI note of a lesson (same access as the lesson)",
)
async def ai_notes_get(
    lesson_id: LessonRef, session: SessionDep, viewer: OptionalUser
) -> AiNotePublic:
    return await notes.lesson_note(session=session, viewer=viewer, lesson_id=lesson_id)


@router.get(
    "/ai-notes",
    openapi_extra=ANONYMOUS_TOO,
    summary="Notes whose key concepts match, of lessons I may read (keyset pages)",
)
async def ai_notes_search(
    concept: Annotated[ConceptQuery, Query()],
    session: SessionDep,
    viewer: OptionalUser,
    paging: Paging,
) -> Page[AiNoteHit]:
    rows = await notes.search(
        session=session,
        viewer=viewer,
        concept=concept,
        after=paging.after(_lesson_key),
        limit=paging.limit,
    )
    return paging.page(rows, key=lambda row: [row.lesson_id])


@router.post(
    "/chat/sessions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(EnrollmentRequired, NotFound),
    summary="Open a chat with the tutor about a lesson or a course",
)
async def chat_sessions_start(
    data: ChatSessionCreate, user: CurrentUser, session: SessionDep
) -> ChatSessionPublic:
    return await chat.start(session=session, user=user, data=data)


@router.get("/chat/sessions", summary="My chat sessions, newest first (keyset pages)")
async def chat_sessions_list(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[ChatSessionPublic]:
    rows = await chat.mine(
        session=session, user=user, after=paging.after(_time_key), limit=paging.limit
    )
    return paging.page(rows, key=lambda row: [row.started_at, str(row.id)])


@router.post(
    "/chat/sessions/{session_id}/end",
    responses=problem_responses(NotFound),
    summary="End a chat session (ending it again changes nothing)",
)
async def chat_sessions_end(
    session_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ChatSessionPublic:
    return await chat.end(session=session, user=user, session_id=session_id)


@router.get(
    "/chat/sessions/{session_id}/messages",
    responses=problem_responses(NotFound),
    summary="A session's messages, oldest first (keyset pages)",
)
async def chat_messages_list(
    session_id: uuid.UUID, user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[ChatMessagePublic]:
    rows = await chat.messages(
        session=session,
        user=user,
        session_id=session_id,
        after=paging.after(_time_key),
        limit=paging.limit,
    )
    return paging.page(rows, key=lambda row: [row.created_at, str(row.id)])


STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: 'message' (your stored message), 'delta' "
        "({\"text\": …} as the reply is written), then 'done' (the stored reply) or "
        "'error' (code, detail, and the part of the reply received, stored as incomplete; "
        "see docs/ai.md).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/chat/sessions/{session_id}/messages",
    response_class=StreamingResponse,
    responses={
        **STREAM_RESPONSE,
        **problem_responses(
            EnrollmentRequired,
            NotFound,
            ChatSessionEnded,
            ChatLocked,
            TokenBudgetSpent,
            AiNotConfigured,
            AiUnavailable,
        ),
    },
    summary="Ask the tutor: your message is stored, the reply streams (server-sent events)",
)
async def chat_messages_send(
    session_id: uuid.UUID,
    data: ChatMessageCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
) -> StreamingResponse:
    provider: ModelProvider = request.app.state.ai_provider
    prepared = await chat.ask(
        session=session,
        user=user,
        provider=provider,
        budget=settings.ai_daily_token_budget,
        session_id=session_id,
        data=data,
    )
    # The request's unit of work commits (the question is stored) before this streams.
    return StreamingResponse(
        chat.stream_reply(prepared=prepared, provider=provider, sessionmaker=sessionmaker),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.patch(
    "/chat/messages/{message_id}",
    responses=problem_responses(NotFound),
    summary="Mark whether a message was played aloud",
)
async def chat_messages_update(
    message_id: uuid.UUID, data: ChatMessageUpdate, user: CurrentUser, session: SessionDep
) -> ChatMessagePublic:
    return await chat.mark_played(
        session=session, user=user, message_id=message_id, played=data.tts_played
    )
