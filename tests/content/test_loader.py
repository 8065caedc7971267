"""The loader on good and broken folders, against the real Mongo wire server and
PostgreSQL: exact messages, nothing written on error, idempotence, versions, prune,
convergence after a failed PostgreSQL step, and batched writes that stay one
transaction."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from syllabus.config import Settings
from syllabus.content.loader import load as loader_load
from syllabus.content.loader.run import LoadResult, load_folder
from tests.content.folder import write_json
from tests.isolation import as_owner

Database = AsyncDatabase[dict[str, Any]]
SEED = Path(__file__).resolve().parents[2] / "content_seed"
COLLECTIONS = ("course_content", "lesson_content", "quiz_content", "questions", "practice_content")


async def load(
    folder: Path,
    database: Database,
    sessions: async_sessionmaker[AsyncSession],
    *,
    dry_run: bool = False,
    prune: bool = False,
    force: bool = False,
) -> LoadResult:
    return await load_folder(
        folder, database=database, sessionmaker=sessions, dry_run=dry_run, prune=prune, force=force
    )


async def mongo_counts(database: Database) -> dict[str, int]:
    return {
        name: await database[name].count_documents({})
        for name in (*COLLECTIONS, "content_versions", "content_loads")
    }


async def catalog_counts(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in ("categories", "tracks", "courses", "content_index", "achievements"):
        counts[table] = (
            await connection.execute(text(f"SELECT count(*) FROM {table}"))
        ).scalar_one()
    return counts


async def test_a_good_folder_loads_into_both_stores(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    result = await load(folder, mongo, catalog_sessions)
    assert result.ok, result.problems
    assert await mongo_counts(mongo) == {
        "course_content": 3,
        "lesson_content": 6,
        "quiz_content": 3,
        "questions": 8,  # 3 bank + 2 legacy + 3 inline
        "practice_content": 3,
        "content_versions": 23,
        "content_loads": 1,
    }
    assert await catalog_counts(connection) == {
        "categories": 1,
        "tracks": 1,
        "courses": 3,
        "content_index": 12,
        "achievements": 1,
    }
    legacy = await mongo["questions"].find_one({"_id": "question:legacy-1"})
    assert legacy is not None
    assert legacy["key"] == {"type": "numeric", "value": 429.0, "tolerance": 0.0}
    lesson = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-intro"})
    assert lesson is not None
    assert [block["kind"] for block in lesson["blocks"]] == [
        "heading",
        "paragraph",
        "component",
        "code",
    ]
    heading, _, callout, code = lesson["blocks"]
    assert heading == {"kind": "heading", "id": "introduction", "level": 1, "text": "Introduction"}
    assert callout["name"] == "Callout"
    assert callout["props"] == {"type": "tip"}
    assert [child["markdown"] for child in callout["children"]] == ["Name resources with nouns."]
    assert code["language"] == "http"
    assert code["text"] == "GET /courses HTTP/1.1"
    course = await mongo["course_content"].find_one({"_id": "course:rest-basics"})
    assert course is not None
    first_item = course["modules"][0]["items"][2]
    assert first_item == {
        "id": "quiz:rest-basics-check",
        "type": "quiz",
        "title": "Check",
        "duration_minutes": None,
        "points": 50,
        "required": True,
        "preview": False,
    }
    rows = (
        await connection.execute(
            text(
                "SELECT i.content_id, i.item_type, i.position, i.points, i.required, c.status "
                "FROM content_index i JOIN courses c ON c.id = i.course_id "
                "WHERE c.content_id = 'course:rest-basics' ORDER BY i.position"
            )
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("lesson:rest-basics-intro", "lesson", 0, 10, True, "published"),
        ("lesson:rest-basics-more", "lesson", 1, 10, True, "published"),
        ("quiz:rest-basics-check", "quiz", 2, 50, True, "published"),
        ("practice:rest-basics-task", "practice", 3, 20, False, "published"),
    ]


class WriteCounter(monitoring.CommandListener):
    WRITES = frozenset({"insert", "update", "delete", "findAndModify"})

    def __init__(self) -> None:
        self.writes = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in self.WRITES:
            self.writes += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_an_unchanged_second_load_writes_nothing(
    folder: Path,
    mongo: Database,
    settings: Settings,
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    counter = WriteCounter()
    assert settings.mongo_url is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, event_listeners=[counter]
    )
    try:
        database = client[mongo.name]
        first = await load(folder, database, catalog_sessions)
        assert first.ok
        assert counter.writes > 0
        counter.writes = 0
        second = await load(folder, database, catalog_sessions)
        assert counter.writes == 0  # counted on the wire, not by the loader itself
        forced = await load(folder, database, catalog_sessions, force=True)
    finally:
        await client.close()
    assert second.ok
    assert second.unchanged  # the same files as last time, in both stores
    assert second.mongo_writes == 0
    assert forced.ok
    assert forced.plan is not None
    assert {change.action for change in forced.plan.changes} == {"unchanged"}
    assert counter.writes == 0  # every document compared, none written


async def test_a_changed_lesson_gets_a_new_version_and_the_old_one_is_kept(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    await load(folder, mongo, catalog_sessions)
    path = folder / "courses" / "rest-basics" / "lessons" / "02-more.mdx"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Plain Markdown", "Revised Markdown"),
        encoding="utf-8",
    )
    result = await load(folder, mongo, catalog_sessions)
    assert result.plan is not None
    assert [(c.content_id, c.action, c.version) for c in result.plan.writes] == [
        ("lesson:rest-basics-more", "update", 2)
    ]
    current = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-more"})
    assert current is not None
    assert current["version"] == 2
    assert "Revised" in current["source"]
    old = await mongo["content_versions"].find_one({"_id": "lesson:rest-basics-more@1"})
    new = await mongo["content_versions"].find_one({"_id": "lesson:rest-basics-more@2"})
    assert old is not None
    assert new is not None
    assert "Plain Markdown" in old["document"]["source"]
    assert old["content_hash"] != new["content_hash"] == current["content_hash"]
    version = (
        await connection.execute(
            text("SELECT version FROM content_index WHERE content_id = 'lesson:rest-basics-more'")
        )
    ).scalar_one()
    assert version == 2


async def test_dry_run_lists_the_diff_and_writes_nothing(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    result = await load(folder, mongo, catalog_sessions, dry_run=True)
    assert result.ok
    assert result.dry_run
    assert result.plan is not None
    assert len(result.plan.writes) == 23
    assert {change.action for change in result.plan.changes} == {"create"}
    assert sum((await mongo_counts(mongo)).values()) == 0
    assert sum((await catalog_counts(connection)).values()) == 0


async def test_prune_archives_what_left_the_folder_and_deletes_nothing(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    await load(folder, mongo, catalog_sessions)
    shutil.rmtree(folder / "courses" / "draft-course")
    course_file = folder / "courses" / "rest-basics" / "course.json"
    course = json.loads(course_file.read_text(encoding="utf-8"))
    course["modules"][0]["items"].remove("lesson:rest-basics-more")
    write_json(course_file, course)
    (folder / "courses" / "rest-basics" / "lessons" / "02-more.mdx").unlink()

    without_prune = await load(folder, mongo, catalog_sessions)
    assert without_prune.ok
    lesson = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-more"})
    assert lesson is not None
    assert lesson["status"] == "published"
    # Out of the outline: archived in the content index at once (rollups ignore it).
    status = (
        await connection.execute(
            text("SELECT status FROM content_index WHERE content_id = 'lesson:rest-basics-more'")
        )
    ).scalar_one()
    assert status == "archived"

    pruned = await load(folder, mongo, catalog_sessions, prune=True)
    assert pruned.plan is not None
    archived = sorted(c.content_id for c in pruned.plan.changes if c.action == "archive")
    assert "course:draft-course" in archived
    assert "lesson:rest-basics-more" in archived
    assert await mongo["lesson_content"].count_documents({"_id": "lesson:rest-basics-more"}) == 1
    lesson = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-more"})
    assert lesson is not None
    assert lesson["status"] == "archived"
    course_status = (
        await connection.execute(
            text("SELECT status FROM courses WHERE content_id = 'course:draft-course'")
        )
    ).scalar_one()
    assert course_status == "archived"


async def test_a_failed_postgresql_step_is_reported_and_a_rerun_repairs_it(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    async with as_owner(connection):  # a trigger of the test's own: DDL
        await connection.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'catalog is read-only right now'; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON content_index FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        )
    failed = await load(folder, mongo, catalog_sessions)
    assert not failed.ok
    assert failed.catalog_error is not None
    assert "catalog is read-only right now" in failed.catalog_error
    assert failed.mongo_writes == 46  # MongoDB was written (23 documents, 23 versions)...
    assert (await catalog_counts(connection))["courses"] == 0  # ...PostgreSQL rolled back

    async with as_owner(connection):
        await connection.execute(text("DROP TRIGGER refuse ON content_index"))
    repaired = await load(folder, mongo, catalog_sessions)
    assert repaired.ok
    assert repaired.mongo_writes == 0
    assert await catalog_counts(connection) == {
        "categories": 1,
        "tracks": 1,
        "courses": 3,
        "content_index": 12,
        "achievements": 1,
    }


async def test_a_write_failing_in_a_late_batch_leaves_mongodb_untouched(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Writes are sent in batches bounded by bytes, but in the one transaction: a failure
    after several batches were sent still leaves MongoDB as it was, and a re-run with the
    same tiny batches writes everything."""
    monkeypatch.setattr(loader_load, "WRITE_BATCH_BYTES", 1)  # one document per batch
    insert_many = AsyncCollection.insert_many
    calls = 0

    async def failing_third_time(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise PyMongoError("the server went away")
        return await insert_many(self, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "insert_many", failing_third_time)
    with pytest.raises(PyMongoError, match="the server went away"):
        await load(folder, mongo, catalog_sessions)
    assert sum((await mongo_counts(mongo)).values()) == 0
    assert sum((await catalog_counts(connection)).values()) == 0

    monkeypatch.setattr(AsyncCollection, "insert_many", insert_many)
    result = await load(folder, mongo, catalog_sessions)
    assert result.ok
    assert result.mongo_writes == 46  # 23 documents, 23 versions, one by one
    assert (await mongo_counts(mongo))["content_versions"] == 23


async def test_the_result_of_a_load_has_a_short_repr(
    folder: Path, mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """``asyncio.run`` (Python 3.11) builds the repr of the finished task, result included:
    it must not spell out every document of the load."""
    result = await load(folder, mongo, catalog_sessions)
    assert result.plan is not None
    assert len(result.plan.documents) == 23
    assert "Plain Markdown text" not in repr(result)  # no lesson's body
    assert len(repr(result)) < 600


async def test_the_seed_content_is_valid_and_complete(
    mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession], connection: AsyncConnection
) -> None:
    seed = SEED
    result = await load(seed, mongo, catalog_sessions)
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.warnings == []
    # every seed lesson still parses into what it was: its components are components
    async for lesson in mongo["lesson_content"].find({}):
        assert lesson["format"] == "mdx"
        assert lesson["imports"] == []
        components = [b for b in lesson["blocks"] if b["kind"] == "component"]
        assert all(b["name"] in {"Callout", "Definition", "Example"} for b in components)
        assert all(b["children"] for b in components), lesson["_id"]
    courses = (
        await connection.execute(
            text(
                "SELECT c.status, cat.slug FROM courses c JOIN categories cat ON cat.id = c.category_id"
            )
        )
    ).all()
    published = [row for row in courses if row.status == "published"]
    assert len(published) >= 3
    assert len({row.slug for row in published}) >= 2
    assert any(row.status == "draft" for row in courses)
    assert await mongo["lesson_content"].count_documents({}) >= 30
    assert await mongo["quiz_content"].count_documents({}) >= 6
    assert await mongo["practice_content"].count_documents({}) >= 1
    used: set[str] = set()
    async for quiz in mongo["quiz_content"].find({}):
        used.update(quiz["question_ids"])
    types = {q["type"] async for q in mongo["questions"].find({"_id": {"$in": sorted(used)}})}
    assert types == {
        "single_choice",
        "multiple_choice",
        "true_false",
        "short_text",
        "numeric",
        "ordering",
        "matching",
    }
    assert await mongo["questions"].count_documents({"_id": {"$regex": "^question:legacy-"}}) >= 5
    russian = await mongo["lesson_content"].find_one({"course_id": "course:ege-math-profile"})
    assert russian is not None
    assert any("\u0430" <= ch <= "\u044f" for ch in russian["title"].lower())  # Cyrillic
    assert (await catalog_counts(connection))["achievements"] >= 5


@pytest.mark.parametrize("kind", ["mongo", "catalog"])
async def test_nothing_is_written_when_a_folder_has_problems(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    kind: str,
) -> None:
    (folder / "tracks.json").write_text('[{"slug": "backend"', encoding="utf-8")
    result = await load(folder, mongo, catalog_sessions)
    assert result.problems
    if kind == "mongo":
        assert sum((await mongo_counts(mongo)).values()) == 0
    else:
        assert sum((await catalog_counts(connection)).values()) == 0
