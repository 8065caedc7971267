"""Writing a built folder: MongoDB first (one transaction, versioned, unchanged documents
untouched), then the PostgreSQL catalog (one transaction, idempotent upserts).

If the PostgreSQL step fails after MongoDB was written, the run says so and fails; a
re-run finds MongoDB unchanged (nothing to write) and still upserts the whole catalog,
so the two stores converge. Content is never hard-deleted: ``prune`` archives, and only
what the folder's source owns (see :mod:`syllabus.content.sources`).
"""

import asyncio
import sys
import time
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
from pymongo.errors import PyMongoError
from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import SQLModel, col

from syllabus.catalog.models import Category, ContentIndex, ContentLoad, Course, Track
from syllabus.content.documents import ContentVersion, LoadMarker, QuizContent, quiz_hash
from syllabus.content.hooks import (
    AchievementData,
    CompetencyData,
    achievements_loaded,
    competencies_loaded,
)
from syllabus.content.loader.build import Built, OutsideRef
from syllabus.content.loader.problems import FileProblem, Problems
from syllabus.content.loader.stored import Stored
from syllabus.content.sources import (
    OwnedTable,
    Owner,
    conflict,
    conflict_message,
    owned_tables,
    prunable,
    shown,
)
from syllabus.kit.standards import DEFAULT_CURRENCY

T = TypeVar("T")
Action = Literal["create", "update", "status", "claim", "unchanged", "archive"]
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
Notice = Callable[[str], None]
"""Told what a load is waiting for (a conflicting transaction), in a sentence."""
TRANSIENT_RETRY_SECONDS = 120.0
"""How long a load keeps retrying a transaction MongoDB calls transient: a SIGKILLed
load's transaction holds its documents until the server expires it (60 s by default)."""
TRANSIENT_FIRST_DELAY = 0.2
TRANSIENT_MAX_DELAY = 5.0


@dataclass(frozen=True, slots=True)
class Change:
    collection: str
    content_id: str
    action: Action
    version: int
    detail: str = ""
    owner: str | None = None
    """Of an archive or a claim: the source that held the content until now."""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    """MongoDB's: every document of the folder, and what a prune archives."""
    documents: dict[str, Stored] = field(default_factory=dict)
    catalog: list[Change] = field(default_factory=list)
    """PostgreSQL rows a prune archives (``collection`` is their table)."""
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    """(id, why) of every id another source owns: the load must not write."""
    displaced: set[str | None] = field(default_factory=set)
    """Other sources whose content this load takes over or archives: their last load's
    marker no longer describes the stores, so their next load is a full one."""

    def __repr__(self) -> str:
        """Counts only. The repr of a load's result gets built in full more often than it
        seems: ``asyncio.run`` (Python 3.11) formats its finished task, result included,
        when it restores the SIGINT handler, and a repr of every document was the largest
        allocation of a whole load."""
        counts = {name: dict(counter) for name, counter in self.counts().items()}
        return f"Plan({len(self.changes) + len(self.catalog)} changes: {counts})"

    def write_size(self, change: Change) -> int:
        """Bytes of document ``change`` writes (none for a status change)."""
        return len(self.documents[change.content_id].bson) if change.action in VERSIONED else 0

    def versions(self) -> dict[str, int]:
        return {change.content_id: change.version for change in self.changes}

    def counts(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = {}
        for change in (*self.changes, *self.catalog):
            table.setdefault(change.collection, Counter())[change.action] += 1
        return table

    @property
    def writes(self) -> list[Change]:
        return [change for change in self.changes if change.action != "unchanged"]


def _owner(row: dict[str, Any]) -> Owner:
    return Owner(row.get("source_id"), row.get("status") == "archived")


async def plan_changes(
    database: MongoDatabase,
    built: Built,
    *,
    source: str | None,
    prune: bool,
    every_source: bool = False,
) -> Plan:
    """Compare with what is stored: one projected read per collection, no writes. An id
    another source owns is a conflict, not a change; ``prune`` archives what ``source``
    owns (with ``every_source``: anyone) and the folder no longer has."""
    plan = Plan()
    projection = {"content_hash": 1, "version": 1, "status": 1, "source_id": 1}
    for collection, documents in built.stored.items():
        stored = {row["_id"]: row async for row in database[collection].find({}, projection)}
        for document in documents:
            plan.documents[document.id] = document
            old = stored.get(document.id)
            if old is None:
                plan.changes.append(Change(collection, document.id, "create", 1))
                continue
            owner = _owner(old)
            version = int(old.get("version", 1))
            if conflict(owner, source):
                plan.conflicts.append((document.id, conflict_message(document.id, owner, source)))
                continue
            if owner.source != source:
                plan.displaced.add(owner.source)
            if old.get("content_hash") != document.content_hash:
                plan.changes.append(
                    Change(collection, document.id, "update", int(old.get("version", 0)) + 1)
                )
            elif owner.source != source:
                detail = f"from {shown(owner.source)}"
                plan.changes.append(
                    Change(collection, document.id, "claim", version, detail, owner.source)
                )
            elif old.get("status") != document.status:
                detail = f"{old.get('status')} -> {document.status}"
                plan.changes.append(Change(collection, document.id, "status", version, detail))
            else:
                plan.changes.append(Change(collection, document.id, "unchanged", version))
        if prune:
            wanted = {document.id for document in documents}
            for content_id, old in stored.items():
                owner = _owner(old)
                if content_id not in wanted and prunable(
                    owner, source=source, every_source=every_source
                ):
                    if owner.source != source:
                        plan.displaced.add(owner.source)
                    plan.changes.append(
                        Change(
                            collection,
                            content_id,
                            "archive",
                            int(old.get("version", 1)),
                            owner=owner.source,
                        )
                    )
    return plan


async def plan_catalog(
    session: AsyncSession,
    built: Built,
    plan: Plan,
    *,
    source: str | None,
    prune: bool,
    every_source: bool = False,
) -> None:
    """The same for every :class:`~syllabus.content.sources.OwnedTable` (categories,
    tracks, achievements, …): conflicts, and with ``prune`` the rows to archive. Reads
    only; run before MongoDB is written, so a conflict leaves both stores untouched."""
    for table in owned_tables:
        keys = built.owned.get(table.kind, [])
        owners = await table.owners(session, keys)
        for key in keys:
            owner = owners.get(key)
            if owner is None or owner.source == source:
                continue
            if conflict(owner, source):
                label = table.label(key)
                plan.conflicts.append((label, conflict_message(label, owner, source)))
            else:
                plan.displaced.add(owner.source)
        if prune:
            for key, owner_source in await table.prunable(
                session,
                source=source,
                every_source=every_source,
                keep=keys,
                kept=owned_tables.keepers(table.kind),
            ):
                name = table.table.__tablename__
                if owner_source != source:
                    plan.displaced.add(owner_source)
                plan.catalog.append(
                    Change(str(name), table.label(key), "archive", 0, owner=owner_source)
                )


async def check_outside(session: AsyncSession, refs: list[OutsideRef]) -> list[FileProblem]:
    """The categories, tracks and courses a folder names but does not define must be in
    the catalog already (loaded by another source, and not archived): three small reads."""
    if not refs:
        return []
    keys = {ref.key for ref in refs}
    categories = set(
        await session.scalars(select(col(Category.slug)).where(col(Category.slug).in_(keys)))
    )
    tracks: dict[str, str] = dict(
        (
            await session.execute(
                select(col(Track.slug), col(Category.slug))
                .join(Category, col(Category.id) == col(Track.category_id))
                .where(col(Track.slug).in_(keys))
            )
        ).all()
    )
    courses = set(
        await session.scalars(
            select(col(Course.content_id)).where(
                col(Course.content_id).in_(keys), col(Course.status) != "archived"
            )
        )
    )
    problems = Problems()
    for ref in refs:
        if ref.kind == "category" and ref.key not in categories:
            problems.at(ref.lines, ref.path, f"unknown category {ref.key!r}")
        elif ref.kind == "course" and ref.key not in courses:
            problems.at(ref.lines, ref.path, f"unknown course {ref.key}")
        elif ref.kind == "track":
            if ref.key not in tracks:
                problems.at(ref.lines, ref.path, f"unknown track {ref.key!r}")
            elif ref.category is not None and tracks[ref.key] != ref.category:
                problems.at(
                    ref.lines,
                    ref.path,
                    f"track {ref.key!r} belongs to category {tracks[ref.key]!r}",
                )
    return problems.sorted()


def _category_in_use(source: str | None) -> Any:
    """A category stays while a course card names it (archived ones too: they are
    history) or a live track of another source does."""
    return exists().where(col(Course.category_id) == col(Category.id)) | exists().where(
        col(Track.category_id) == col(Category.id),
        col(Track.deleted_at).is_(None),
        col(Track.source_id).is_distinct_from(source),
    )


def _track_in_use(source: str | None) -> Any:
    """A track stays while a course card names it."""
    return exists().where(col(Course.track_id) == col(Track.id))


owned_tables.register(OwnedTable("category", Category, "slug", kept=_category_in_use))
owned_tables.register(OwnedTable("track", Track, "slug", kept=_track_in_use))


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


def marker_key(source: str | None) -> str:
    """Where MongoDB keeps the fingerprint of ``source``'s last load (one per source, so
    loading another folder does not make this one load again)."""
    return LATEST if source is None else f"source:{source}"


async def mongo_fingerprint(database: MongoDatabase, source: str | None) -> str | None:
    latest = await database[LOADS].find_one({"_id": marker_key(source)})
    return None if latest is None else str(latest["fingerprint"])


async def mongo_fingerprints(database: MongoDatabase) -> dict[str, str]:
    """Every source's last load, by :func:`marker_key`."""
    return {row["_id"]: str(row["fingerprint"]) async for row in database[LOADS].find({})}


async def catalog_fingerprint(session: AsyncSession, source: str | None) -> str | None:
    result = await session.execute(
        select(col(ContentLoad.fingerprint))
        .where(col(ContentLoad.source_id).is_not_distinct_from(source))
        .order_by(col(ContentLoad.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def catalog_fingerprints(session: AsyncSession) -> dict[str, str]:
    """Every source's last load the catalog was synced from, by :func:`marker_key`."""
    rows = await session.execute(
        select(col(ContentLoad.source_id), col(ContentLoad.fingerprint))
        .ext(distinct_on(col(ContentLoad.source_id)))
        .order_by(col(ContentLoad.source_id), col(ContentLoad.id).desc())
    )
    return {marker_key(source): fingerprint for source, fingerprint in rows}


def _operations(
    changes: list[Change], documents: dict[str, Stored], now: datetime, source: str | None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The write operations of one batch of changes (all in one collection), and the
    ``content_versions`` entries of the documents they write."""
    operations: list[Any] = []
    versions: list[dict[str, Any]] = []
    for change in changes:
        if change.action in VERSIONED:
            stored = documents[change.content_id].stored_form(change.version, now, source)
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
        elif change.action == "archive":  # stays its source's: only that source revives it
            operations.append(
                UpdateOne(
                    {"_id": change.content_id},
                    {"$set": {"status": "archived", "loaded_at": now}},
                )
            )
        else:
            status = documents[change.content_id].status
            operations.append(
                UpdateOne(
                    {"_id": change.content_id},
                    {"$set": {"status": status, "loaded_at": now, "source_id": source}},
                )
            )
    return operations, versions


def transient(error: PyMongoError) -> bool:
    """MongoDB's word for "abort and run the whole transaction again" (a write conflict
    with another transaction, such as one a killed load left open)."""
    return error.has_error_label("TransientTransactionError")


async def write_mongo(
    database: MongoDatabase,
    plan: Plan,
    *,
    fingerprint: str,
    source: str | None,
    progress: Progress | None = None,
    notice: Notice | None = None,
) -> int:
    """Apply the plan in one transaction; returns the number of write operations.

    A transaction MongoDB calls transient (it met another one's writes: a load killed
    mid-way leaves its transaction open until the server expires it) is run again, with
    backoff, for up to :data:`TRANSIENT_RETRY_SECONDS`, saying so through ``notice``.
    """
    writes = plan.writes
    if not writes and await mongo_fingerprint(database, source) == fingerprint:
        return 0
    deadline = time.monotonic() + TRANSIENT_RETRY_SECONDS
    delay = TRANSIENT_FIRST_DELAY
    attempt = 1
    while True:
        try:
            return await _write_once(
                database,
                plan,
                writes,
                fingerprint=fingerprint,
                source=source,
                progress=progress,
            )
        except PyMongoError as error:
            if not transient(error) or time.monotonic() + delay > deadline:
                raise
            if notice is not None:
                notice(
                    "another load's transaction is still open; retrying "
                    f"in {delay:.1f} s (attempt {attempt + 1})"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, TRANSIENT_MAX_DELAY)
            attempt += 1


async def _write_once(
    database: MongoDatabase,
    plan: Plan,
    writes: list[Change],
    *,
    fingerprint: str,
    source: str | None,
    progress: Progress | None,
) -> int:
    """One try of :func:`write_mongo`. Operations are built batch by batch as they are
    sent (still in the one transaction), so at most one batch of documents is ever
    decoded at a time."""
    now = datetime.now(UTC)
    total = len(writes) + sum(change.action in VERSIONED for change in writes)
    written = 0
    async with database.client.start_session() as session, await session.start_transaction():
        for collection, changes in groupby(writes, key=attrgetter("collection")):
            for batch in batches(
                changes, WRITE_BATCH, size=plan.write_size, limit=WRITE_BATCH_BYTES
            ):
                operations, versions = _operations(batch, plan.documents, now, source)
                await database[collection].bulk_write(operations, ordered=True, session=session)
                if versions:
                    await database[ContentVersion.Settings.name].insert_many(
                        versions, session=session
                    )
                written += len(operations) + len(versions)
                if progress:
                    progress(written, total)
        displaced = [marker_key(other) for other in plan.displaced if other != source]
        if displaced:  # their content changed hands: their next load is a full one
            await database[LOADS].delete_many({"_id": {"$in": displaced}}, session=session)
        # Which folder state MongoDB now holds, committed with the documents themselves.
        await database[LOADS].replace_one(
            {"_id": marker_key(source)},
            {"fingerprint": fingerprint, "at": now},
            upsert=True,
            session=session,
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


async def quiz_hashes(database: MongoDatabase, quizzes: list[str]) -> dict[str, str]:
    """:func:`~syllabus.content.documents.quiz_hash` of these quizzes as MongoDB holds them
    now: two projected reads. A quiz's questions are always in its own folder (the reader
    refuses an unknown question), so the load that changes a question recomputes every
    quiz that asks it."""
    found = [
        row
        async for row in database[QuizContent.Settings.name].find(
            {"_id": {"$in": quizzes}}, {"content_hash": 1, "question_ids": 1}
        )
    ]
    asked = sorted({question for row in found for question in row.get("question_ids", [])})
    hashes = {
        row["_id"]: row["content_hash"]
        async for row in database["questions"].find({"_id": {"$in": asked}}, {"content_hash": 1})
    }
    return {
        row["_id"]: quiz_hash(
            row["content_hash"], [hashes[q] for q in row.get("question_ids", []) if q in hashes]
        )
        for row in found
    }


async def sync_catalog(
    session: AsyncSession,
    database: MongoDatabase,
    built: Built,
    plan: Plan,
    *,
    fingerprint: str,
    folder: str,
    source: str | None,
    mongo_writes: int,
    default_currency: str = DEFAULT_CURRENCY,
) -> None:
    """Upsert categories, tracks, course cards and the content index, each recording
    ``source``, hand the achievements to their owner
    (:data:`~syllabus.content.hooks.achievements_loaded`), archive what the plan prunes,
    and record which folder state the catalog now reflects. A card's currency is its
    course.json's, else ``default_currency`` (``SYLLABUS_DEFAULT_CURRENCY``)."""
    session.add(
        ContentLoad(
            fingerprint=fingerprint, source=folder, source_id=source, mongo_writes=mongo_writes
        )
    )
    versions = plan.versions()
    await upsert_rows(
        session,
        Category,
        [{"slug": c.slug, "name": c.name, "source_id": source} for c in built.categories],
        key="slug",
    )
    category_ids = await _ids(session, col(Category.slug), col(Category.id))
    tracks = [
        {
            "slug": t.slug,
            "name": t.name,
            "description": t.description,
            "category_id": category_ids[t.category],
            "source_id": source,
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
            "language": course.spec.language,
            "currency": course.spec.currency or default_currency,
            "exam_type": course.spec.exam_type,
            "subject": course.spec.subject,
            "grade": course.spec.grade,
            "lesson_count": sum(entry.item_type == "lesson" for entry in course.items),
            "duration_minutes": sum(entry.duration_minutes or 0 for entry in course.items),
            "version": versions[course.spec.id],
            "content_hash": course.document.content_hash,
            "source_id": source,
        }
        for course in built.courses
    ]
    await upsert_rows(session, Course, courses, key="content_id")
    changed = {change.content_id for change in plan.changes if change.action in VERSIONED}
    touched = [
        course.spec.id
        for course in built.courses
        if course.spec.id in changed or any(e.content_id in changed for e in course.items)
    ]
    if touched:  # a new card got the column's default, now(), on insert
        await session.execute(
            update(Course)
            .where(col(Course.content_id).in_(touched))
            .values(content_updated_at=func.statement_timestamp())
        )
    course_ids = await _ids(session, col(Course.content_id), col(Course.id))
    # A quiz's key covers its questions: a question edit changes it, quiz unchanged or not.
    hashes = await quiz_hashes(
        database, [e.content_id for c in built.courses for e in c.items if e.item_type == "quiz"]
    )
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
            "content_hash": hashes.get(entry.content_id)
            if entry.item_type == "quiz"
            else plan.documents[entry.content_id].content_hash,
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
        source,
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
        source,
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
    archived: dict[str, list[str]] = {}
    for change in plan.catalog:
        kind, key = change.content_id.split(":", 1)
        archived.setdefault(kind, []).append(key)
    for kind, keys in archived.items():
        table = owned_tables.get(kind)
        assert table is not None  # the plan came from the same registry
        await table.archive(session, keys)
