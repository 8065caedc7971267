"""Writing a built folder: MongoDB first (one transaction, versioned, unchanged documents
untouched), then the PostgreSQL catalog (one transaction, idempotent upserts).

If the PostgreSQL step fails after MongoDB was written, the run says so and fails; a
re-run finds MongoDB unchanged (nothing to write) and still upserts the whole catalog,
so the two stores converge. Content is never hard-deleted: ``prune`` archives.
"""

import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from operator import attrgetter
from typing import Any, Literal, TypeVar

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import SQLModel, col

from syllabus.catalog.models import Category, ContentIndex, ContentLoad, Course, Track
from syllabus.content.documents import ContentVersion, LoadMarker
from syllabus.content.hooks import (
    AchievementData,
    CompetencyData,
    achievements_loaded,
    competencies_loaded,
)
from syllabus.content.loader.build import Built
from syllabus.content.loader.stored import Stored

T = TypeVar("T")
Action = Literal["create", "update", "status", "unchanged", "archive"]
VERSIONED: frozenset[Action] = frozenset({"create", "update"})
"""Actions that write a whole document, and so a new entry in ``content_versions``."""
MongoDatabase = AsyncDatabase[dict[str, Any]]
WRITE_BATCH = 500
WRITE_BATCH_BYTES = 256 * 1024
"""A write batch also ends at this much BSON: its documents are decoded all at once, so
this (not the folder) bounds the memory a write adds, whatever the documents' size."""
UPSERT_BATCH = 1000  # SQLAlchemy's own insertmanyvalues page: no extra round trips
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while writing."""


@dataclass(frozen=True, slots=True)
class Change:
    collection: str
    content_id: str
    action: Action
    version: int
    detail: str = ""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    documents: dict[str, Stored] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Counts only. The repr of a load's result gets built in full more often than it
        seems: ``asyncio.run`` (Python 3.11) formats its finished task, result included,
        when it restores the SIGINT handler, and a repr of every document was the largest
        allocation of a whole load."""
        counts = {name: dict(counter) for name, counter in self.counts().items()}
        return f"Plan({len(self.changes)} changes: {counts})"

    def write_size(self, change: Change) -> int:
        """Bytes of document ``change`` writes (none for a status change)."""
        return len(self.documents[change.content_id].bson) if change.action in VERSIONED else 0

    def versions(self) -> dict[str, int]:
        return {change.content_id: change.version for change in self.changes}

    def counts(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = {}
        for change in self.changes:
            table.setdefault(change.collection, Counter())[change.action] += 1
        return table

    @property
    def writes(self) -> list[Change]:
        return [change for change in self.changes if change.action != "unchanged"]


async def plan_changes(database: MongoDatabase, built: Built, *, prune: bool) -> Plan:
    """Compare with what is stored: one projected read per collection, no writes."""
    plan = Plan()
    for collection, documents in built.stored.items():
        stored = {
            row["_id"]: row
            async for row in database[collection].find(
                {}, {"content_hash": 1, "version": 1, "status": 1}
            )
        }
        for document in documents:
            plan.documents[document.id] = document
            old = stored.get(document.id)
            if old is None:
                plan.changes.append(Change(collection, document.id, "create", 1))
            elif old.get("content_hash") != document.content_hash:
                plan.changes.append(
                    Change(collection, document.id, "update", int(old.get("version", 0)) + 1)
                )
            elif old.get("status") != document.status:
                detail = f"{old.get('status')} -> {document.status}"
                plan.changes.append(
                    Change(collection, document.id, "status", int(old.get("version", 1)), detail)
                )
            else:
                plan.changes.append(
                    Change(collection, document.id, "unchanged", int(old.get("version", 1)))
                )
        if prune:
            wanted = {document.id for document in documents}
            for content_id, old in stored.items():
                if content_id not in wanted and old.get("status") != "archived":
                    plan.changes.append(
                        Change(collection, content_id, "archive", int(old.get("version", 1)))
                    )
    return plan


def batches(
    items: Iterable[T],
    count: int,
    *,
    size: Callable[[T], int] = lambda _: 0,
    limit: int = sys.maxsize,
) -> Iterator[list[T]]:
    """Consecutive batches of at most ``count`` items, each also ending as soon as the
    ``size`` of its items (bytes, say) reaches ``limit``."""
    batch: list[T] = []
    total = 0
    for item in items:
        batch.append(item)
        total += size(item)
        if len(batch) == count or total >= limit:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


LOADS = LoadMarker.Settings.name
LATEST = "latest"


async def mongo_fingerprint(database: MongoDatabase) -> str | None:
    latest = await database[LOADS].find_one({"_id": LATEST})
    return None if latest is None else str(latest["fingerprint"])


async def catalog_fingerprint(session: AsyncSession) -> str | None:
    result = await session.execute(
        select(col(ContentLoad.fingerprint)).order_by(col(ContentLoad.id).desc()).limit(1)
    )
    return result.scalar_one_or_none()


def _operations(
    changes: list[Change], documents: dict[str, Stored], now: datetime
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The write operations of one batch of changes (all in one collection), and the
    ``content_versions`` entries of the documents they write."""
    operations: list[Any] = []
    versions: list[dict[str, Any]] = []
    for change in changes:
        if change.action in VERSIONED:
            stored = documents[change.content_id].stored_form(change.version, now)
            operations.append(
                InsertOne(stored)
                if change.action == "create"
                else ReplaceOne({"_id": change.content_id}, stored)
            )
            versions.append(
                {
                    "_id": f"{change.content_id}@{change.version}",
                    "content_id": change.content_id,
                    "collection": change.collection,
                    "version": change.version,
                    "content_hash": stored["content_hash"],
                    "document": dict(stored),
                    "created_at": now,
                }
            )
        else:
            status = (
                "archived" if change.action == "archive" else documents[change.content_id].status
            )
            operations.append(
                UpdateOne(
                    {"_id": change.content_id}, {"$set": {"status": status, "loaded_at": now}}
                )
            )
    return operations, versions


async def write_mongo(
    database: MongoDatabase,
    plan: Plan,
    *,
    fingerprint: str,
    progress: Progress | None = None,
) -> int:
    """Apply the plan in one transaction; returns the number of write operations.

    Operations are built batch by batch as they are sent (still in the one transaction),
    so at most one batch of documents is ever decoded at a time.
    """
    writes = plan.writes
    if not writes and await mongo_fingerprint(database) == fingerprint:
        return 0
    now = datetime.now(UTC)
    total = len(writes) + sum(change.action in VERSIONED for change in writes)
    written = 0
    async with database.client.start_session() as session, await session.start_transaction():
        for collection, changes in groupby(writes, key=attrgetter("collection")):
            for batch in batches(
                changes, WRITE_BATCH, size=plan.write_size, limit=WRITE_BATCH_BYTES
            ):
                operations, versions = _operations(batch, plan.documents, now)
                await database[collection].bulk_write(operations, ordered=True, session=session)
                if versions:
                    await database[ContentVersion.Settings.name].insert_many(
                        versions, session=session
                    )
                written += len(operations) + len(versions)
                if progress:
                    progress(written, total)
        # Which folder state MongoDB now holds, committed with the documents themselves.
        await database[LOADS].replace_one(
            {"_id": LATEST}, {"fingerprint": fingerprint, "at": now}, upsert=True, session=session
        )
    return written


async def _ids(
    session: AsyncSession, key: SQLCoreOperations[str], value: SQLCoreOperations[uuid.UUID]
) -> dict[str, uuid.UUID]:
    rows = await session.execute(select(key, value))
    return {row[0]: row[1] for row in rows}


async def upsert_rows(
    session: AsyncSession, table: type[SQLModel], rows: Iterable[dict[str, Any]], *, key: str
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE for many rows: compiled once, sent in batches
    (executemany), and reviving rows that had been soft-deleted. ``rows`` may be lazy:
    only one batch of them exists at a time."""
    statement = None
    for batch in batches(rows, UPSERT_BATCH):
        if statement is None:
            columns = [name for name in batch[0] if name != key]
            inserting = insert(table)
            statement = inserting.on_conflict_do_update(
                index_elements=[key],
                set_={**{name: inserting.excluded[name] for name in columns}, "deleted_at": None},
            )
        await session.execute(statement, batch)


async def sync_catalog(
    session: AsyncSession,
    built: Built,
    plan: Plan,
    *,
    fingerprint: str,
    source: str,
    mongo_writes: int,
) -> None:
    """Upsert categories, tracks, course cards and the content index, hand the
    achievements to their owner (:data:`~syllabus.content.hooks.achievements_loaded`), and
    record which folder state the catalog now reflects."""
    session.add(ContentLoad(fingerprint=fingerprint, source=source, mongo_writes=mongo_writes))
    versions = plan.versions()
    await upsert_rows(
        session, Category, [{"slug": c.slug, "name": c.name} for c in built.categories], key="slug"
    )
    category_ids = await _ids(session, col(Category.slug), col(Category.id))
    tracks = [
        {
            "slug": t.slug,
            "name": t.name,
            "description": t.description,
            "category_id": category_ids[t.category],
        }
        for t in built.tracks
    ]
    await upsert_rows(session, Track, tracks, key="slug")
    track_ids = await _ids(session, col(Track.slug), col(Track.id))
    courses = [
        {
            "content_id": course.spec.id,
            "slug": course.slug,
            "title": course.spec.title,
            "description": course.spec.description,
            "category_id": category_ids[course.spec.category],
            "track_id": track_ids[course.spec.track] if course.spec.track else None,
            "level": course.spec.level,
            "status": course.document.status,
            "price_cents": course.spec.price_cents,
            "version": versions[course.spec.id],
            "content_hash": course.document.content_hash,
        }
        for course in built.courses
    ]
    await upsert_rows(session, Course, courses, key="content_id")
    course_ids = await _ids(session, col(Course.content_id), col(Course.id))
    entries = (
        {
            "content_id": entry.content_id,
            "course_id": course_ids[course.spec.id],
            "item_type": entry.item_type,
            "module_id": entry.module_id,
            "module_title": entry.module_title,
            "module_order": entry.module_order,
            "position": entry.position,
            "title": entry.title,
            "version": versions[entry.content_id],
            "points": entry.points,
            "required": entry.required,
            "duration_minutes": entry.duration_minutes,
            "preview": entry.preview,
            "status": "active",
            "pass_percent": entry.pass_percent,
            "scoring_policy": entry.scoring_policy,
        }
        for course in built.courses
        for entry in course.items
    )
    await upsert_rows(session, ContentIndex, entries, key="content_id")
    # Items no longer in their course's outline stay as history, marked archived, so
    # progress on them survives while rollups count only current items.
    loaded_courses = [course_ids[course.spec.id] for course in built.courses]
    current = [entry.content_id for course in built.courses for entry in course.items]
    await session.execute(
        update(ContentIndex)
        .where(
            col(ContentIndex.course_id).in_(loaded_courses),
            col(ContentIndex.content_id).not_in(current),
            col(ContentIndex.status) != "archived",
        )
        .values(status="archived")
    )
    archived_courses = [
        change.content_id
        for change in plan.changes
        if change.action == "archive" and change.content_id.startswith("course:")
    ]
    if archived_courses:
        await session.execute(
            update(Course)
            .where(col(Course.content_id).in_(archived_courses))
            .values(status="archived")
        )
        await session.execute(
            update(ContentIndex)
            .where(
                col(ContentIndex.course_id).in_(
                    select(col(Course.id)).where(col(Course.content_id).in_(archived_courses))
                )
            )
            .values(status="archived")
        )
    await achievements_loaded.fire(
        session,
        [
            AchievementData(
                code=a.code,
                title=a.title,
                description=a.description,
                rarity=a.rarity,
                rule=a.rule.model_dump(mode="json", exclude_none=True),
            )
            for a in built.achievements
        ],
    )
    links: dict[str, set[tuple[str, str]]] = {}
    for link in built.competency_links:
        links.setdefault(link.code, set()).add((link.content_id, link.course_id))
    await competencies_loaded.fire(
        session,
        [
            CompetencyData(
                code=c.code,
                title=c.title,
                description=c.description,
                parent=c.parent,
                links=tuple(sorted(links.get(c.code, ()))),
            )
            for c in built.competencies
        ],
    )
