"""Content sources and the scoped prune (DECISIONS 11, [1/8] item 21), on the real
stores: a prune archives only what the folder's source loaded, every kind; two sources
never load the same id; unnamed content is taken over; ``--prune-all-sources`` is the
explicit whole-store prune."""

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlmodel import col

from syllabus.catalog.models import Category
from syllabus.content.loader.run import LoadResult, load_folder
from syllabus.content.sources import owned_tables
from tests.content.folder import make_author_folder, make_folder, write_json
from tests.identity.helpers import Account
from tests.learning.helpers import enroll, progress

Database = AsyncDatabase[dict[str, Any]]
SEED = Path(__file__).resolve().parents[2] / "content_seed"
COLLECTIONS = ("course_content", "lesson_content", "quiz_content", "questions", "practice_content")
CATALOG = {"category": "categories", "track": "tracks", "achievement": "achievements"}
CATALOG_KEYS = {"categories": "slug", "tracks": "slug", "achievements": "code"}


async def load(
    folder: Path,
    database: Database,
    sessions: async_sessionmaker[AsyncSession],
    *,
    prune: bool = False,
    every_source: bool = False,
    force: bool = False,
) -> LoadResult:
    return await load_folder(
        folder,
        database=database,
        sessionmaker=sessions,
        prune=prune,
        every_source=every_source,
        force=force,
    )


async def documents(database: Database) -> dict[str, tuple[str, str | None]]:
    """Every content document: id → (status, source)."""
    found = {}
    for name in COLLECTIONS:
        async for row in database[name].find({}, {"status": 1, "source_id": 1}):
            found[row["_id"]] = (row["status"], row.get("source_id"))
    return found


async def catalog(connection: AsyncConnection) -> dict[str, tuple[bool, str | None]]:
    """Every category, track and achievement: ``kind:key`` → (archived, source)."""
    found = {}
    for kind, table in CATALOG.items():
        rows = await connection.execute(
            text(f"SELECT {CATALOG_KEYS[table]}, deleted_at IS NOT NULL, source_id FROM {table}")
        )
        for key, archived, source in rows:
            found[f"{kind}:{key}"] = (archived, source)
    return found


async def cards(connection: AsyncConnection) -> dict[str, tuple[str, str | None]]:
    rows = await connection.execute(text("SELECT content_id, status, source_id FROM courses"))
    return {content_id: (status, source) for content_id, status, source in rows}


def archived(result: LoadResult) -> set[str]:
    assert result.ok, result.problems
    assert result.plan is not None
    return {
        change.content_id
        for change in (*result.plan.changes, *result.plan.catalog)
        if change.action == "archive"
    }


async def test_an_authors_pruned_folder_leaves_the_seed_and_its_learners_alone(
    client: httpx.AsyncClient,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    learner: Account,
    tmp_path: Path,
) -> None:
    """The issue's report: an author loads their one-course folder with --prune (as the
    docs say); the seed and an enrolled learner's outline are untouched, and the next
    ``make run`` (the seed, with --prune) does not archive the author's course."""
    assert (await load(SEED, mongo, catalog_sessions, prune=True)).ok  # make run
    await enroll(client, learner, "course:rest-api-design")
    await progress(client, learner, "lesson:rest-intro", status="completed")
    outline_url = "/api/v1/courses/rest-api-design/outline"
    before = (await client.get(outline_url, headers=learner.headers)).json()
    seed_documents = await documents(mongo)
    seed_cards = await cards(connection)

    author = make_author_folder(tmp_path / "ada", source="ada-courses", slug="ada-course")
    pruned = await load(author, mongo, catalog_sessions, prune=True)
    assert archived(pruned) == set()
    after = await client.get(outline_url, headers=learner.headers)
    assert after.status_code == 200
    assert after.json() == before
    assert before["progress"]["completed_required"] == 1
    now = await documents(mongo)
    assert {key: now[key] for key in seed_documents} == seed_documents
    assert "archived" not in {status for status, _ in seed_documents.values()}
    assert {source for _, source in seed_documents.values()} == {"syllabus-seed"}
    assert now["course:ada-course"] == ("published", "ada-courses")
    assert {
        key: value for key, value in (await cards(connection)).items() if key in seed_cards
    } == (seed_cards)

    again = await load(SEED, mongo, catalog_sessions, prune=True, force=True)  # make run
    assert archived(again) == set()
    assert (await documents(mongo))["course:ada-course"] == ("published", "ada-courses")
    assert (await cards(connection))["course:ada-course"] == ("published", "ada-courses")
    listed = (await client.get("/api/v1/courses?limit=100")).json()["items"]
    assert "course:ada-course" in {course["id"] for course in listed}


async def test_prune_archives_exactly_what_its_source_dropped_of_every_kind(
    client: httpx.AsyncClient,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    session: AsyncSession,
    learner: Account,
    tmp_path: Path,
) -> None:
    mine = make_folder(tmp_path / "mine", source="mine")
    spares = {
        "categories.json": [
            {"slug": "programming", "name": "Programming"},
            {"slug": "spare", "name": "Spare"},
        ],
        "tracks.json": [
            {"slug": "backend", "name": "Backend", "category": "programming"},
            {"slug": "spare-track", "name": "Spare track", "category": "spare"},
        ],
        "achievements.json": [
            {
                "code": "first-lesson",
                "title": "First steps",
                "rule": {"type": "lessons_completed", "count": 1},
            },
            {
                "code": "spare-badge",
                "title": "Spare",
                "rule": {"type": "lessons_completed", "count": 2},
            },
        ],
    }
    originals = {name: json.loads((mine / name).read_text()) for name in spares}
    for name, data in spares.items():
        write_json(mine / name, data)
    other = make_author_folder(tmp_path / "other", source="other", slug="other-course")
    assert (await load(mine, mongo, catalog_sessions)).ok
    assert (await load(other, mongo, catalog_sessions, prune=True)).ok
    other_documents = {k: v for k, v in (await documents(mongo)).items() if v[1] == "other"}
    other_catalog = {k: v for k, v in (await catalog(connection)).items() if v[1] == "other"}
    assert (len(other_documents), len(other_catalog)) == (6, 2)
    await session.execute(
        text(
            "INSERT INTO user_achievements (user_id, achievement_id) "
            "SELECT :user, id FROM achievements WHERE code = 'spare-badge'"
        ),
        {"user": learner.id},
    )

    for name, data in originals.items():
        write_json(mine / name, data)
    shutil.rmtree(mine / "courses" / "draft-course")
    bank = json.loads((mine / "questions" / "bank.json").read_text())
    write_json(
        mine / "questions" / "bank.json", [q for q in bank if q["id"] != "question:bank-match"]
    )
    pruned = await load(mine, mongo, catalog_sessions, prune=True)
    assert archived(pruned) == {
        "course:draft-course",
        "lesson:draft-course-intro",
        "lesson:draft-course-more",
        "quiz:draft-course-check",
        "practice:draft-course-task",
        "question:draft-course-nouns",
        "question:bank-match",
        "category:spare",
        "track:spare-track",
        "achievement:spare-badge",
    }
    stored = await documents(mongo)
    assert {k for k, (status, _) in stored.items() if status == "archived"} == {
        name for name in archived(pruned) if name.split(":")[0] not in CATALOG
    }
    rows = await catalog(connection)
    assert {k for k, (gone, _) in rows.items() if gone} == {
        "category:spare",
        "track:spare-track",
        "achievement:spare-badge",
    }
    assert {k: stored[k] for k in other_documents} == other_documents
    assert {k: rows[k] for k in other_catalog} == other_catalog
    assert (await cards(connection))["course:draft-course"] == ("archived", "mine")
    # An archived achievement is no longer offered, and its learners keep it.
    offered = (await client.get("/api/v1/achievements")).json()["items"]
    assert "spare-badge" not in {a["code"] for a in offered}
    mine_earned = await client.get("/api/v1/users/me/achievements", headers=learner.headers)
    assert [a["achievement"]["code"] for a in mine_earned.json()["items"]] == ["spare-badge"]


async def test_two_sources_cannot_load_the_same_id_and_nothing_is_written(
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    first = make_folder(tmp_path / "first", source="first")
    assert (await load(first, mongo, catalog_sessions)).ok
    stored, rows = await documents(mongo), await catalog(connection)
    second = make_author_folder(tmp_path / "second", source="second", slug="rest-basics")
    write_json(second / "categories.json", [{"slug": "programming", "name": "Mine now"}])
    course = json.loads((second / "courses" / "rest-basics" / "course.json").read_text())
    course.update(category="programming", track=None)
    write_json(second / "courses" / "rest-basics" / "course.json", course)
    write_json(second / "tracks.json", [])

    refused = await load(second, mongo, catalog_sessions, prune=True)
    assert not refused.ok
    shown = [str(problem) for problem in refused.problems]
    assert shown[0] == (
        "source.json:1: category:programming: category:programming belongs to source "
        "'first', and this folder is source 'second': two sources cannot load the same id. "
        "Rename it here, or remove it from the other source's folder and load that with "
        "--prune first (archived content may be taken over)"
    )
    assert {problem.field for problem in refused.problems} == {
        "category:programming",
        "course:rest-basics",
        "lesson:rest-basics-intro",
        "lesson:rest-basics-more",
        "quiz:rest-basics-check",
        "practice:rest-basics-task",
        "question:rest-basics-nouns",
    }
    assert await documents(mongo) == stored
    assert await catalog(connection) == rows


async def test_a_folder_without_a_source_loads_but_does_not_prune(
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    """Unnamed content (a folder with no source.json, or loaded before sources existed)
    belongs to nobody: it loads, cannot be pruned, and the first named source takes it."""
    folder = make_folder(tmp_path / "My Courses", source=None)
    refused = await load(folder, mongo, catalog_sessions, prune=True)
    assert [str(problem) for problem in refused.problems] == [
        "source.json:1: (file): missing: --prune archives only what this folder's source "
        "loaded before, so the folder must name its source; create source.json with "
        '{"id": "my-courses"} (see docs/authoring.md, "Sources")'
    ]
    assert await documents(mongo) == {}

    unnamed = await load(folder, mongo, catalog_sessions)
    assert unnamed.ok
    assert unnamed.source is None
    assert {source for _, source in (await documents(mongo)).values()} == {None}
    assert {source for _, source in (await catalog(connection)).values()} == {None}

    write_json(folder / "source.json", {"id": "my-courses"})
    named = await load(folder, mongo, catalog_sessions, prune=True)
    assert named.plan is not None
    assert {c.action for c in named.plan.changes} == {"claim"}
    assert named.mongo_writes == 23  # the source and status only: no new versions
    assert {source for _, source in (await documents(mongo)).values()} == {"my-courses"}
    assert {source for _, source in (await catalog(connection)).values()} == {"my-courses"}
    assert {source for _, source in (await cards(connection)).values()} == {"my-courses"}

    (folder / "source.json").unlink()  # an unnamed folder cannot overwrite named content
    again = await load(folder, mongo, catalog_sessions)
    assert not again.ok
    assert (
        "belongs to source 'my-courses', and this folder names no source (no source.json)"
        in str(again.problems[0])
    )


async def test_archived_content_moves_to_another_source(
    mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    old = make_folder(tmp_path / "old", source="old")
    assert (await load(old, mongo, catalog_sessions)).ok
    new = make_folder(tmp_path / "new", source="new")
    for course in ("rest-basics", "paid-course"):
        shutil.rmtree(new / "courses" / course)
    assert not (await load(new, mongo, catalog_sessions)).ok  # old still holds all of it

    shutil.rmtree(old / "courses" / "draft-course")
    assert "course:draft-course" in archived(await load(old, mongo, catalog_sessions, prune=True))
    for name in ("categories.json", "tracks.json", "achievements.json", "questions"):
        path = new / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    write_json(new / "categories.json", [{"slug": "drafts", "name": "Drafts"}])
    course_file = new / "courses" / "draft-course" / "course.json"
    course = json.loads(course_file.read_text())
    course.update(category="drafts", track=None)
    write_json(course_file, course)
    quiz_file = new / "courses" / "draft-course" / "quizzes" / "check.json"
    quiz = json.loads(quiz_file.read_text())
    quiz["questions"] = quiz["questions"][2:]
    write_json(quiz_file, quiz)
    moved = await load(new, mongo, catalog_sessions, prune=True)
    assert moved.ok, moved.problems
    stored = await documents(mongo)
    assert stored["course:draft-course"] == ("draft", "new")
    assert stored["question:draft-course-nouns"] == ("published", "new")
    # The old folder's next prune leaves what moved alone.
    assert archived(await load(old, mongo, catalog_sessions, prune=True, force=True)) == set()
    assert (await documents(mongo))["course:draft-course"] == ("draft", "new")


async def test_prune_all_sources_archives_every_other_folders_content(
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    mine = make_folder(tmp_path / "mine", source="mine")
    other = make_author_folder(tmp_path / "other", source="other", slug="other-course")
    assert (await load(mine, mongo, catalog_sessions)).ok
    assert (await load(other, mongo, catalog_sessions)).ok

    everything = await load(mine, mongo, catalog_sessions, prune=True, every_source=True)
    assert archived(everything) == {
        "course:other-course",
        "lesson:other-course-intro",
        "lesson:other-course-more",
        "quiz:other-course-check",
        "practice:other-course-task",
        "question:other-course-nouns",
    }  # its category and track stay: the archived course card still names them
    assert everything.plan is not None
    assert {c.owner for c in everything.plan.changes if c.action == "archive"} == {"other"}
    assert (await cards(connection))["course:other-course"] == ("archived", "other")

    # The other folder's files did not change, but its content did: it loads in full.
    restored = await load(other, mongo, catalog_sessions)
    assert not restored.unchanged
    assert (await documents(mongo))["course:other-course"] == ("published", "other")
    assert (await catalog(connection))["track:other-course-track"] == (False, "other")


async def test_a_course_may_join_a_category_and_track_another_source_loaded(
    client: httpx.AsyncClient,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    """An author's course in the seed's Programming category and Backend track: the
    folder names them without defining them (no categories.json, no tracks.json)."""
    assert (await load(SEED, mongo, catalog_sessions, prune=True)).ok
    author = make_author_folder(tmp_path / "ada", source="ada-courses", slug="ada-course")
    (author / "categories.json").unlink()
    (author / "tracks.json").unlink()
    course_file = author / "courses" / "ada-course" / "course.json"
    course = json.loads(course_file.read_text())

    course.update(category="programming", track="analytics")
    write_json(course_file, course)
    refused = await load(author, mongo, catalog_sessions, prune=True)
    assert [str(problem) for problem in refused.problems] == [
        "courses/ada-course/course.json:8: track: track 'analytics' belongs to category 'data'"
    ]
    course.update(category="cooking", track="backend")
    write_json(course_file, course)
    refused = await load(author, mongo, catalog_sessions, prune=True)
    assert [str(problem) for problem in refused.problems] == [
        "courses/ada-course/course.json:7: category: unknown category 'cooking'",
        "courses/ada-course/course.json:8: track: track 'backend' belongs to category "
        "'programming'",
    ]

    course.update(category="programming", track="backend")
    write_json(course_file, course)
    joined = await load(author, mongo, catalog_sessions, prune=True)
    assert archived(joined) == set()
    listed = (await client.get("/api/v1/courses?category=programming&track=backend")).json()
    assert "course:ada-course" in {card["id"] for card in listed["items"]}
    rows = await catalog(connection)
    assert rows["category:programming"] == (False, "syllabus-seed")
    assert rows["track:backend"] == (False, "syllabus-seed")


async def test_a_higher_layer_can_keep_a_row_its_source_dropped(
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``owned_tables.keep_while``: what a package above content (a plan scoped to a
    category, say) registers so that a prune keeps the rows it points at."""
    monkeypatch.setattr(owned_tables, "_keepers", {})
    owned_tables.keep_while("category", lambda source: col(Category.slug) == "kept-by-plan")
    mine = make_folder(tmp_path / "mine", source="mine")
    categories = json.loads((mine / "categories.json").read_text())
    spare = [{"slug": "kept-by-plan", "name": "Kept"}, {"slug": "spare", "name": "Spare"}]
    write_json(mine / "categories.json", categories + spare)
    assert (await load(mine, mongo, catalog_sessions)).ok
    write_json(mine / "categories.json", categories)
    assert archived(await load(mine, mongo, catalog_sessions, prune=True)) == {"category:spare"}
    rows = await catalog(connection)
    assert rows["category:kept-by-plan"] == (False, "mine")
    assert rows["category:spare"] == (True, "mine")


async def test_a_category_a_plan_is_scoped_to_survives_the_prune(
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    session: AsyncSession,
    tmp_path: Path,
) -> None:
    """Plans are defined by admins and may be scoped to a category (commerce): a prune
    keeps that category while a live plan names it (``owned_tables.keep_while``)."""
    mine = make_folder(tmp_path / "mine", source="mine")
    categories = json.loads((mine / "categories.json").read_text())
    spare = [{"slug": "planned", "name": "Planned"}, {"slug": "spare", "name": "Spare"}]
    write_json(mine / "categories.json", categories + spare)
    assert (await load(mine, mongo, catalog_sessions)).ok
    await session.execute(
        text(
            "INSERT INTO plans (code, title, price_minor, currency, period, category_id) "
            "SELECT 'planned-monthly', 'Planned', 900, 'USD', 'month', id FROM categories "
            "WHERE slug = 'planned'"
        )
    )
    write_json(mine / "categories.json", categories)
    assert archived(await load(mine, mongo, catalog_sessions, prune=True)) == {"category:spare"}
    assert (await catalog(connection))["category:planned"] == (False, "mine")
