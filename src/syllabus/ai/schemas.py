"""The AI layer as the API speaks it. Nothing here can carry an answer key: notes and
replies are made from lessons only (docs/ai.md, "What is sent to the model")."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from syllabus.ai.models import MessageRole, MessageStatus, NoteGenerator, SessionType
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.schemas import WHITE_SPACE, InputSchema, OutputSchema

MAX_MESSAGE_LENGTH = 4000


class NotePoint(OutputSchema):
    text: str
    block_ids: list[str] = Field(description="Ids of the lesson blocks this point is from.")


class NoteConcept(OutputSchema):
    term: str
    definition: str
    block_ids: list[str]


class AiNotePublic(OutputSchema):
    lesson_id: str
    course_id: str
    lesson_version: int = Field(description="The lesson version the note was made from.")
    stale: bool = Field(
        description="The lesson changed since: the next `syllabus notes generate` run "
        "makes a new note; until then this one is shown, marked."
    )
    generator: NoteGenerator = Field(
        description="`offline`: extracted from the lesson without a model; `model`: written "
        "by the configured model."
    )
    model: str | None
    prompt_version: str
    summary_markdown: str
    summary_points: list[NotePoint]
    key_concepts: list[NoteConcept]
    generated_at: datetime


class AiNoteHit(AiNotePublic):
    lesson_title: str


SEARCHABLE = rf"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x9f{WHITE_SPACE}]"
"""A character other than white space, ASCII punctuation and control characters. Not
``\\w``: read as ECMA-262 (the OpenAPI's dialect) that is ASCII only, and refused
``индексы``, which the server's Unicode ``\\w`` takes."""

ConceptQuery = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=SEARCHABLE,
        examples=["index", "индексы"],
        description="Words to find among notes' key concepts, in any English or Russian "
        "word form (`индексы` finds `индекс`): at least one character other than white "
        "space, ASCII punctuation and control characters.",
    ),
]


class ChatSessionCreate(InputSchema):
    """A session about a course, and about one of its lessons when ``lesson_id`` is given."""

    course_id: Annotated[str, Field(pattern=f"^(course:)?{SLUG_PATTERN}$", max_length=200)]
    lesson_id: Annotated[
        str | None,
        Field(
            pattern=f"^lesson:{SLUG_PATTERN}$",
            max_length=200,
            description="A lesson of `course_id`'s course; another course's lesson is a 422 "
            "naming `lesson_id`.",
        ),
    ] = None
    session_type: SessionType | None = Field(
        default=None,
        description="What the client shows the session as. Default: `lesson` when a lesson "
        "is named, else `interactive`. The tutor's material is the named lesson, or else the "
        "course outline, whatever the type.",
    )

    @property
    def kind(self) -> SessionType:
        if self.session_type is not None:
            return self.session_type
        return "lesson" if self.lesson_id is not None else "interactive"


class ChatSessionPublic(OutputSchema):
    id: uuid.UUID
    session_type: SessionType
    course_id: str | None
    lesson_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: int | None = Field(description="Once ended: how long the session lasted.")


class ChatMessageCreate(InputSchema):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)


class ChatMessagePublic(OutputSchema):
    id: uuid.UUID
    session_id: uuid.UUID
    role: MessageRole
    content: str
    status: MessageStatus = Field(
        description="`incomplete`: the reply was cut off (the client left, or the model "
        "server failed); what arrived is kept."
    )
    citations: list[str] = Field(description="Ids of the lesson blocks the reply cites.")
    prompt_tokens: int
    completion_tokens: int
    tts_played: bool
    tts_audio_url: str | None
    created_at: datetime


class ChatMessageUpdate(InputSchema):
    tts_played: bool


StreamEvent = Literal["message", "delta", "done", "error"]
