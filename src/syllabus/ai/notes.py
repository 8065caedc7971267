"""AI notes: made per lesson version (offline or by the model), read with the lesson's
own access rules, and found by concept across every lesson the caller may read."""

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.access import service as access
from syllabus.ai import context, notes_offline, repository
from syllabus.ai.errors import AiNoteMissing
from syllabus.ai.provider import ModelProvider, ProviderFailed
from syllabus.ai.repository import LessonToNote, NoteRow
from syllabus.ai.schemas import AiNoteHit, AiNotePublic
from syllabus.catalog import service as catalog
from syllabus.content import service as content
from syllabus.content.documents import LessonContent
from syllabus.db.sql import session_scope
from syllabus.identity.models import User, is_staff

logger = logging.getLogger(__name__)

Generator = Literal["offline", "model"]
OFFLINE_PROMPT_VERSION = "offline-1"
DEFAULT_CONCURRENCY = 4


def public(row: NoteRow) -> AiNotePublic:
    note = row.note
    return AiNotePublic(
        lesson_id=note.lesson_content_id,
        course_id=row.course,
        lesson_version=note.lesson_version,
        stale=note.lesson_version != row.current_version,
        generator=note.generator,
        model=note.model,
        prompt_version=note.prompt_version,
        summary_markdown=note.summary_markdown,
        summary_points=note.summary_points,
        key_concepts=note.key_concepts,
        generated_at=note.generated_at,
    )


async def lesson_note(
    *, session: AsyncSession, viewer: User | None, lesson_id: str
) -> AiNotePublic:
    """The note of a lesson the viewer may open (the lesson's own rules: the same 404,
    401 and 403), marked stale when the lesson changed since."""
    await content.open_lesson(session=session, viewer=viewer, lesson_id=lesson_id)
    row = await repository.note_of(session, lesson_id)
    if row is None:
        raise AiNoteMissing(f"no AI note for {lesson_id} yet")
    return public(row)


async def search(
    *, session: AsyncSession, viewer: User | None, concept: str, after: str | None, limit: int
) -> list[AiNoteHit]:
    """Up to ``limit + 1`` notes matching ``concept`` of lessons the viewer may open: a
    visible course (SQL), then a free course, a preview lesson, or ``access``'s yes."""
    opens: dict[str, bool] = {}

    async def may_read(row: NoteRow) -> bool:
        if not row.paid or row.preview:
            return True
        if row.course not in opens:
            course = await catalog.course_if_visible(
                session=session, viewer=viewer, course_ref=row.course
            )
            opens[row.course] = course is not None and await access.may_open(
                session=session, user=viewer, course=course
            )
        return opens[row.course]

    found: list[AiNoteHit] = []
    while True:
        batch = await repository.search_notes(
            session, concept=concept, after=after, limit=limit + 1, drafts=is_staff(viewer)
        )
        for row in batch:
            if await may_read(row):
                found.append(AiNoteHit(**public(row).model_dump(), lesson_title=row.lesson_title))
                if len(found) > limit:
                    return found
        if len(batch) <= limit:
            return found
        after = batch[-1].note.lesson_content_id


class _ModelPoint(BaseModel):
    text: str
    block_ids: list[str] = []


class _ModelConcept(BaseModel):
    term: str
    definition: str
    block_ids: list[str] = []


class _ModelNote(BaseModel):
    summary_points: list[_ModelPoint]
    key_concepts: list[_ModelConcept] = []


def _parse_model_note(reply: str, material: context.Material) -> notes_offline.NoteDraft:
    """The model's JSON (the first object in its reply), its citations kept only where
    they name blocks it was given."""
    start, end = reply.find("{"), reply.rfind("}")
    try:
        parsed = _ModelNote.model_validate(json.loads(reply[start : end + 1]))
    except (ValueError, ValidationError) as error:
        raise ProviderFailed(
            "error", f"the model's note is not the JSON asked for: {error}"
        ) from None

    def cited(ids: list[str]) -> list[str]:
        return [block_id for block_id in ids if block_id in material.block_ids]

    return notes_offline.NoteDraft(
        summary_points=[
            notes_offline.Point(p.text, cited(p.block_ids)) for p in parsed.summary_points
        ],
        key_concepts=[
            notes_offline.Concept(c.term, c.definition, cited(c.block_ids))
            for c in parsed.key_concepts
        ],
    )


async def _draft(
    lesson: LessonContent, *, generator: Generator, provider: ModelProvider | None
) -> tuple[notes_offline.NoteDraft, str | None, str]:
    """The note's content, the model that wrote it (None offline) and the prompt version."""
    if generator == "offline" or provider is None:
        draft = notes_offline.generate(
            blocks=lesson.blocks, objectives=lesson.objectives, key_concepts=lesson.key_concepts
        )
        return draft, None, OFFLINE_PROMPT_VERSION
    material = context.lesson_material(title=lesson.title, blocks=lesson.blocks)
    completion = await provider.complete(
        [
            {"role": "system", "content": context.NOTES_PROMPT},
            {"role": "user", "content": context.wrap(material)},
        ]
    )
    return (
        _parse_model_note(completion.text, material),
        completion.model,
        context.NOTES_PROMPT_VERSION,
    )


def _values(
    item: LessonToNote,
    lesson: LessonContent,
    draft: notes_offline.NoteDraft,
    *,
    generator: str,
    model: str | None,
    prompt_version: str,
) -> dict[str, Any]:
    return {
        "lesson_content_id": item.lesson_id,
        "course_id": item.course_id,
        "lesson_version": lesson.version,
        "content_hash": lesson.content_hash,
        "generator": generator,
        "model": model,
        "prompt_version": prompt_version,
        "summary_markdown": draft.summary_markdown,
        "summary_points": [vars(point) for point in draft.summary_points],
        "key_concepts": [vars(concept) for concept in draft.key_concepts],
        "concept_text": draft.concept_text,
        "generated_at": datetime.now(UTC),
    }


@dataclass
class GenerationReport:
    planned: int = 0
    made: int = 0
    skipped: list[str] = field(default_factory=list)
    """Lessons that changed or vanished while the run went on: the next run takes them."""
    failed: dict[str, str] = field(default_factory=dict)


async def generate_notes(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: ModelProvider | None,
    generator: Generator,
    course: str | None = None,
    stale_only: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_planned: Callable[[int], None] = lambda _count: None,
    on_done: Callable[[str], None] = lambda _lesson: None,
) -> GenerationReport:
    """Make the notes that are missing or stale, ``concurrency`` lessons at a time, each
    committed on its own: an interrupted run keeps what it made and the next run goes on
    from there (it asks again what is missing)."""
    async with session_scope(sessionmaker) as session:
        todo = await repository.lessons_to_note(
            session, course=course, stale_only=stale_only, generator=generator
        )
    report = GenerationReport(planned=len(todo))
    on_planned(len(todo))
    gate = asyncio.Semaphore(concurrency)

    async def one(item: LessonToNote) -> None:
        async with gate:
            try:
                lesson = await LessonContent.get(item.lesson_id)
                if lesson is None or lesson.version != item.version:
                    report.skipped.append(item.lesson_id)
                    return
                draft, model, prompt_version = await _draft(
                    lesson, generator=generator, provider=provider
                )
                values = _values(
                    item,
                    lesson,
                    draft,
                    generator=generator if model else "offline",
                    model=model,
                    prompt_version=prompt_version,
                )
                async with session_scope(sessionmaker) as session:
                    await repository.save_note(session, values)
                report.made += 1
            except ProviderFailed as error:
                report.failed[item.lesson_id] = str(error)
            finally:
                on_done(item.lesson_id)

    await asyncio.gather(*(one(item) for item in todo))
    return report
