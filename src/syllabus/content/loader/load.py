"""Writing a built folder: MongoDB first (one transaction, versioned, unchanged documents
untouched), then the PostgreSQL catalog (one transaction, idempotent upserts).

If the PostgreSQL step fails after MongoDB was written, the run says so and fails; a
re-run finds MongoDB unchanged (nothing to write) and still upserts the whole catalog,
so the two stores converge. Content is never hard-deleted: ``prune`` archives.
"""

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import SQLModel, col

from syllabus.assessment.models import Achievement
from syllabus.catalog.models import Category, ContentIndex, ContentLoad, Course, Track
from syllabus.content.documents import ContentVersion, LoadMarker, VersionedContent
from syllabus.content.loader.build import Built

Action = Literal["create", "update", "status", "unchanged", "archive"]
MongoDatabase = AsyncDatabase[dict[str, Any]]
WRITE_BATCH = 500
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while writing."""


@dataclass(frozen=True)
class Change:
    collection: str
    content_id: str
    action: Action
    version: int
    detail: str = ""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    documents: dict[str, VersionedContent] = field(default_factory=dict)

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
    for collection, documents in built.documents.items():
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


def _stored_form(document: VersionedContent, version: int, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = document.model_dump(mode="python", exclude={"id", "revision_id"})
    data.update(_id=document.id, version=version, loaded_at=now)
    return data


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


async def write_mongo(
    database: MongoDatabase,
    plan: Plan,
    *,
    fingerprint: str,
    progress: Progress | None = None,
) -> int:
    """Apply the plan in one transaction; returns the number of write operations."""
    now = datetime.now(UTC)
    operations: dict[str, list[Any]] = {}
    versions: list[dict[str, Any]] = []
    for change in plan.writes:
        if change.action in ("create", "update"):
            stored = _stored_form(plan.documents[change.content_id], change.version, now)
            operations.setdefault(change.collection, []).append(
                InsertOne(stored)
                if change.action == "create"
                else ReplaceOne({"_id": change.content_id}, stored)
            )
            snapshot = dict(stored)
            versions.append(
                {
                    "_id": f"{change.content_id}@{change.version}",
                    "content_id": change.content_id,
                    "collection": change.collection,
                    "version": change.version,
                    "content_hash": stored["content_hash"],
                    "document": snapshot,
                    "created_at": now,
                }
            )
        else:
            status = (
                "archived"
                if change.action == "archive"
                else plan.documents[change.content_id].status
            )
            operations.setdefault(change.collection, []).append(
                UpdateOne(
                    {"_id": change.content_id}, {"$set": {"status": status, "loaded_at": now}}
                )
            )
    if not operations and await mongo_fingerprint(database) == fingerprint:
        return 0
    total = sum(len(batch) for batch in operations.values()) + len(versions)
    written = 0
    async with database.client.start_session() as session, await session.start_transaction():
        for collection, batch in operations.items():
            for start in range(0, len(batch), WRITE_BATCH):
                chunk = batch[start : start + WRITE_BATCH]
                await database[collection].bulk_write(chunk, ordered=True, session=session)
                written += len(chunk)
                if progress:
                    progress(written, total)
        for start in range(0, len(versions), WRITE_BATCH):
            chunk = versions[start : start + WRITE_BATCH]
            await database[ContentVersion.Settings.name].insert_many(chunk, session=session)
            written += len(chunk)
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
    session: AsyncSession, table: type[SQLModel], rows: list[dict[str, Any]], *, key: str
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE for many rows: compiled once, sent in batches
    (executemany), and reviving rows that had been soft-deleted."""
    if not rows:
        return
    statement = insert(table)
    columns = [name for name in rows[0] if name != key]
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={**{name: statement.excluded[name] for name in columns}, "deleted_at": None},
    )
    await session.execute(statement, rows)


async def sync_catalog(
    session: AsyncSession,
    built: Built,
    plan: Plan,
    *,
    fingerprint: str,
    source: str,
    mongo_writes: int,
) -> None:
    """Upsert categories, tracks, course cards, the content index and achievements, and
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
            "content_id": document.id,
            "slug": document.slug,
            "title": document.title,
            "description": document.description,
            "category_id": category_ids[document.category],
            "track_id": track_ids[document.track] if document.track else None,
            "level": document.level,
            "status": document.status,
            "price_cents": document.price_cents,
            "version": versions[document.id],
            "content_hash": document.content_hash,
        }
        for document in (course.document for course in built.courses)
    ]
    await upsert_rows(session, Course, courses, key="content_id")
    course_ids = await _ids(session, col(Course.content_id), col(Course.id))
    entries = [
        {
            "content_id": entry.content_id,
            "course_id": course_ids[course.document.id],
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
    ]
    await upsert_rows(session, ContentIndex, entries, key="content_id")
    # Items no longer in their course's outline stay as history, marked archived, so
    # progress on them survives while rollups count only current items.
    loaded_courses = [course_ids[course.document.id] for course in built.courses]
    current = [entry["content_id"] for entry in entries]
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
    achievements = [
        {
            "code": a.code,
            "title": a.title,
            "description": a.description,
            "rarity": a.rarity,
            "rule": a.rule.model_dump(mode="json", exclude_none=True),
        }
        for a in built.achievements
    ]
    await upsert_rows(session, Achievement, achievements, key="code")
