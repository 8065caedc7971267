"""The doctor's PostgreSQL side: every column that holds a content id, read grouped by
that id (so the cost follows the amount of content, not of learner rows), and the few
catalog writes ``--fix`` may make. Soft-deleted rows are left out, as everywhere.

Where PostgreSQL names content: ``courses.content_id``, ``content_index.content_id``,
``lesson_progress.lesson_content_id`` (with its notes and bookmarks),
``quiz_attempts.quiz_content_id`` with ``quiz_version`` and the question versions in
``questions``, ``activity_log.object_id`` (course, lesson, quiz and practice objects)
and ``achievements.rule->>'course'``.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import ContentIndex, Course
from syllabus.content.loader.load import catalog_fingerprints, upsert_rows
from syllabus.doctor.findings import Repair


@dataclass(frozen=True)
class CardRow:
    id: uuid.UUID
    content_id: str
    status: str
    version: int
    content_hash: str | None
    title: str
    description: str
    level: str
    price_cents: int | None
    source_id: str | None
    category: str
    track: str | None
    enrollments: int
    """Live (not cancelled) enrollments: who is affected if the card goes."""


@dataclass(frozen=True)
class Reference:
    """Learner rows of one table naming one content id (under one course)."""

    source: str
    content_id: str
    course: str | None
    rows: int
    people: int
    kept: int
    """Progress: rows with a note or bookmark; attempts: submitted ones."""


@dataclass(frozen=True)
class VersionReference:
    content_id: str
    version: int
    attempts: int
    people: int


@dataclass
class Catalog:
    cards: list[CardRow]
    index: list[tuple[ContentIndex, str]]
    """Each live content_index row with its course's content id."""
    references: list[Reference]
    versions: list[VersionReference]
    achievements: list[tuple[str, str]]
    """(achievement code, course content id its rule names)."""
    fingerprints: dict[str, str]
    """Each source's last load the catalog was synced from (``marker_key`` → fingerprint)."""


CARDS = text(
    """
    SELECT c.id, c.content_id, c.status, c.version, c.content_hash, c.title, c.description,
           c.level, c.price_cents, c.source_id, cat.slug AS category, t.slug AS track,
           (SELECT count(*) FROM enrollments e
             WHERE e.course_id = c.id AND e.status <> 'cancelled'
               AND e.deleted_at IS NULL) AS enrollments
    FROM courses c
    JOIN categories cat ON cat.id = c.category_id
    LEFT JOIN tracks t ON t.id = c.track_id
    WHERE c.deleted_at IS NULL
    """
)

REFERENCES = text(
    """
    SELECT 'lesson_progress' AS source, p.lesson_content_id AS content_id,
           c.content_id AS course, count(*) AS rows, count(DISTINCT p.user_id) AS people,
           count(*) FILTER (WHERE p.bookmarked OR p.note IS NOT NULL) AS kept
    FROM lesson_progress p JOIN courses c ON c.id = p.course_id
    WHERE p.deleted_at IS NULL
    GROUP BY p.lesson_content_id, c.content_id
    UNION ALL
    SELECT 'quiz_attempts', a.quiz_content_id, c.content_id, count(*),
           count(DISTINCT a.user_id), count(*) FILTER (WHERE a.submitted_at IS NOT NULL)
    FROM quiz_attempts a LEFT JOIN courses c ON c.id = a.course_id
    WHERE a.deleted_at IS NULL
    GROUP BY a.quiz_content_id, c.content_id
    UNION ALL
    SELECT 'activity_log', l.object_id, NULL, count(*), count(DISTINCT l.actor_id), 0
    FROM activity_log l
    WHERE l.object_type IN ('course', 'lesson', 'quiz', 'practice') AND l.deleted_at IS NULL
    GROUP BY l.object_id
    """
)

VERSION_REFERENCES = text(
    """
    WITH refs AS (
      SELECT a.id AS attempt, a.user_id, a.quiz_content_id AS content_id,
             a.quiz_version AS version
      FROM quiz_attempts a
      WHERE a.quiz_version IS NOT NULL AND a.deleted_at IS NULL
      UNION ALL
      SELECT a.id, a.user_id, q->>'id', (q->>'version')::int
      FROM quiz_attempts a,
           jsonb_array_elements(CASE jsonb_typeof(a.questions)
                                WHEN 'array' THEN a.questions ELSE '[]' END) AS q
      WHERE a.deleted_at IS NULL
    )
    SELECT content_id, version, count(DISTINCT attempt) AS attempts,
           count(DISTINCT user_id) AS people
    FROM refs GROUP BY content_id, version
    """
)

ACHIEVEMENTS = text(
    """
    SELECT code, rule->>'course' FROM achievements
    WHERE rule->>'course' IS NOT NULL AND deleted_at IS NULL
    """
)


async def _index(session: AsyncSession) -> list[tuple[ContentIndex, str]]:
    statement = (
        select(ContentIndex, col(Course.content_id))
        .join(Course, col(Course.id) == col(ContentIndex.course_id))
        .where(col(ContentIndex.deleted_at).is_(None))
        # the row of a soft-deleted card still counts; rows read fresh, not from the map
        .execution_options(include_deleted=True, populate_existing=True)
    )
    return [(row, course) for row, course in (await session.execute(statement)).all()]


async def read_catalog(session: AsyncSession) -> Catalog:
    """Everything in PostgreSQL that names content, in six grouped queries."""

    async def rows(statement: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    return Catalog(
        cards=[CardRow(**row) for row in await rows(CARDS)],
        index=await _index(session),
        references=[Reference(**row) for row in await rows(REFERENCES)],
        versions=[VersionReference(**row) for row in await rows(VERSION_REFERENCES)],
        achievements=[(str(row[0]), str(row[1])) for row in await session.execute(ACHIEVEMENTS)],
        fingerprints=await catalog_fingerprints(session),
    )


async def lock_catalog(session: AsyncSession) -> None:
    """Hold off a concurrent load's catalog sync (and any other writer of cards and the
    index) until this transaction ends, so what is repaired is what was examined.
    Readers, learners' writes included, are not blocked."""
    await session.execute(text("LOCK TABLE courses, content_index IN SHARE ROW EXCLUSIVE MODE"))


TABLES: dict[str, type[Course] | type[ContentIndex]] = {
    "courses": Course,
    "content_index": ContentIndex,
}


async def apply(session: AsyncSession, repairs: list[Repair]) -> None:
    """Each repair is an UPDATE of the live row, or an upsert that also revives a
    soft-deleted one (as the loader does): running it twice changes nothing more."""
    for repair in repairs:
        table = TABLES[repair.table]
        if repair.insert:
            row = {"content_id": repair.content_id, **repair.values}
            await upsert_rows(session, table, [row], key="content_id")
        else:
            await session.execute(
                update(table)
                .where(col(table.content_id) == repair.content_id, col(table.deleted_at).is_(None))
                .values(**repair.values)
            )
