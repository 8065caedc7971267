"""The doctor on the real stores: a clean load reports nothing; each drift made on
purpose is reported exactly; --fix repairs only the safe ones, once, in the catalog, and
never removes or changes a learner's row."""

import json
import re
import shutil
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from syllabus.doctor import service
from syllabus.doctor.report import as_json
from tests.content.folder import write_json
from tests.content.test_loader import SEED
from tests.doctor.conftest import FREE, INTRO, MORE
from tests.identity.helpers import Account

Database = AsyncDatabase[dict[str, Any]]
Found = list[tuple[str, str, str, bool]]
QUIZ = "quiz:rest-basics-check"
LEARNER_TABLES = (
    "users",
    "enrollments",
    "lesson_progress",
    "quiz_attempts",
    "activity_log",
    "user_achievements",
)


async def found(session: AsyncSession, mongo: Database) -> Found:
    """(kind, subject, detail, repairable) of every finding, in report order."""
    report = await service.examine(session=session, database=mongo)
    return [(f.kind, f.subject, f.detail, f.repair is not None) for f in report.findings]


async def fix(session: AsyncSession, mongo: Database) -> list[tuple[str, str, str]]:
    """Run --fix; (kind, subject, what was done) of each repair."""
    report = await service.repair(session=session, database=mongo)
    return [(f.kind, f.subject, f.repair.summary) for f in report.repaired if f.repair]


async def sql(session: AsyncSession, statement: str, **params: Any) -> None:
    await session.execute(text(statement), params)


async def learner_data(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every learner row, whole, to prove --fix leaves them as they were."""
    return {
        table: [
            tuple(row) for row in await session.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        ]
        for table in LEARNER_TABLES
    }


async def catalog_locks(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        text(
            "SELECT relation::regclass::text, mode FROM pg_locks "
            "WHERE pid = pg_backend_pid() AND mode = 'ShareRowExclusiveLock' ORDER BY 1"
        )
    )
    return [(str(table), str(mode)) for table, mode in rows]


async def add_card(session: AsyncSession, content_id: str, *, status: str = "published") -> None:
    await sql(
        session,
        "INSERT INTO courses (content_id, slug, title, category_id, level, status, language, "
        "currency) SELECT :cid, :slug, 'Nobody wrote this', id, 'Beginner', :status, 'en', "
        "'USD' FROM categories",
        cid=content_id,
        slug=content_id.removeprefix("course:"),
        status=status,
    )


async def add_progress(session: AsyncSession, user: str, lesson: str) -> None:
    await sql(
        session,
        "INSERT INTO lesson_progress (user_id, course_id, lesson_content_id) "
        "SELECT :user, id, :lesson FROM courses WHERE content_id = :course",
        user=user,
        lesson=lesson,
        course=FREE,
    )


async def test_a_clean_load_with_learners_reports_nothing(
    studied: Account, session: AsyncSession, mongo: Database
) -> None:
    report = await service.examine(session=session, database=mongo)
    assert report.findings == []
    assert report.clean
    assert report.checked == {
        "documents": 23,
        "snapshots": 23,
        "cards": 3,
        "index_rows": 12,
        "learner_rows": 11,  # 2 progress rows, 1 attempt, 8 activity events
    }
    assert as_json(report) == {
        "clean": True,
        "checked": report.checked,
        "counts": {},
        "findings": [],
        "repaired": 0,
        "left": 0,
    }
    assert await catalog_locks(session) == []
    assert await fix(session, mongo) == []
    # --fix holds off a concurrent load's catalog writes until its transaction ends.
    assert await catalog_locks(session) == [
        ("content_index", "ShareRowExclusiveLock"),
        ("courses", "ShareRowExclusiveLock"),
    ]


async def test_the_seed_content_loaded_is_clean(
    mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    result = await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)
    assert result.ok
    report = await service.examine(session=session, database=mongo)
    assert report.findings == []
    assert report.checked["documents"] > 90
    assert report.checked["index_rows"] > 40


async def test_content_gone_under_learners_is_reported_and_their_rows_are_kept(
    studied: Account, session: AsyncSession, mongo: Database
) -> None:
    await mongo["lesson_content"].delete_one({"_id": MORE})
    await mongo["quiz_content"].delete_one({"_id": QUIZ})
    await mongo["content_versions"].delete_one({"_id": "question:bank-safe-method@1"})
    await add_progress(session, studied.id, "lesson:never-was")
    before = await learner_data(session)

    expected: Found = [
        ("outline_missing_item", FREE, f"lists {MORE}", False),
        ("outline_missing_item", FREE, f"lists {QUIZ}", False),
        ("version_missing", "question:bank-safe-method", "at v1; no snapshot of v1", False),
        ("orphan_versions", MORE, "1 snapshot(s): v1", False),
        ("orphan_versions", QUIZ, "1 snapshot(s): v1", False),
        ("index_missing_content", MORE, f"active row of {FREE}", True),
        ("index_missing_content", QUIZ, f"active row of {FREE}", True),
        (
            "progress_missing_lesson",
            "lesson:never-was",
            f"1 row(s) of 1 learner(s) under {FREE}, 0 with a note or bookmark",
            False,
        ),
        (
            "progress_missing_lesson",
            MORE,
            f"1 row(s) of 1 learner(s) under {FREE}, 1 with a note or bookmark",
            False,
        ),
        (
            "attempt_missing_quiz",
            QUIZ,
            f"1 attempt(s) of 1 learner(s) under {FREE}, 1 submitted",
            False,
        ),
        (
            "attempt_missing_version",
            "question:bank-safe-method@1",
            "1 attempt(s) of 1 learner(s): cannot be graded or reviewed",
            False,
        ),
        ("activity_missing_content", MORE, "2 event(s) of 1 learner(s)", False),
        ("activity_missing_content", QUIZ, "2 event(s) of 1 learner(s)", False),
    ]
    assert await found(session, mongo) == expected

    assert await fix(session, mongo) == [
        ("index_missing_content", MORE, "archived (was active)"),
        ("index_missing_content", QUIZ, "archived (was active)"),
    ]
    assert await learner_data(session) == before
    statuses = await session.execute(
        text("SELECT content_id, status FROM content_index WHERE content_id IN (:a, :b)"),
        {"a": MORE, "b": QUIZ},
    )
    assert sorted(tuple(row) for row in statuses) == [
        (MORE, "archived"),
        (QUIZ, "archived"),
    ]  # kept
    left = [finding for finding in expected if finding[0] != "index_missing_content"]
    assert await found(session, mongo) == left
    assert await fix(session, mongo) == []


async def test_catalog_and_index_drift_and_what_fix_repairs(
    loaded: Path, session: AsyncSession, mongo: Database
) -> None:
    await add_card(session, "course:ghost")
    await add_card(session, "course:gone-long-ago", status="archived")  # a tombstone: fine
    await sql(session, "UPDATE courses SET deleted_at = now() WHERE slug = 'draft-course'")
    await sql(
        session,
        "UPDATE courses SET title = 'Stale', price_cents = 0, source_id = 'elsewhere' "
        "WHERE slug = 'paid-course'",
    )
    await mongo["course_content"].update_one({"_id": FREE}, {"$set": {"status": "archived"}})
    edits = {
        "practice:rest-basics-task": "version = 7, title = 'Old', position = 9",
        "quiz:paid-course-check": "status = 'archived'",
        "practice:draft-course-task": "points = 99",
        "lesson:paid-course-more": (
            "course_id = (SELECT id FROM courses WHERE slug = 'draft-course')"
        ),
    }
    for content_id, change in edits.items():
        await sql(session, f"UPDATE content_index SET {change} WHERE content_id = :c", c=content_id)
    await sql(
        session,
        "DELETE FROM content_index WHERE content_id IN "
        "('lesson:paid-course-intro', 'lesson:draft-course-intro')",
    )
    await sql(
        session,
        "INSERT INTO achievements (code, title, rule) VALUES ('ghost-done', 'Ghost', "
        """'{"type": "course_completed", "course": "course:ghost"}')""",
    )

    unfixable: Found = [
        ("content_without_card", "course:draft-course", "draft, v1", False),
        ("card_settings_differ", "course:paid-course", "price_cents 0 → 1900", False),
        ("achievement_missing_course", "ghost-done", "its rule names course:ghost", False),
        (
            "content_not_indexed",
            "lesson:draft-course-intro",
            "lesson of course:draft-course at position 0 (that course has no card)",
            False,
        ),
    ]
    assert await found(session, mongo) == [
        ("card_without_content", "course:ghost", "published, 0 live enrollment(s)", True),
        unfixable[0],
        (
            "card_out_of_step",
            "course:paid-course",
            "title 'Stale' → 'Course paid-course', source_id 'elsewhere' → 'test-content'",
            True,
        ),
        ("card_not_archived", FREE, "card published", True),
        unfixable[1],
        unfixable[2],
        (
            "index_out_of_step",
            "lesson:paid-course-more",
            "course 'course:draft-course' → 'course:paid-course'",
            True,
        ),
        ("index_out_of_step", "practice:draft-course-task", "points 99 → 20", True),
        (
            "index_out_of_step",
            "practice:rest-basics-task",
            "position 9 → 3, title 'Old' → 'Design endpoints', version 7 → 1",
            True,
        ),
        ("index_out_of_step", "quiz:paid-course-check", "status 'archived' → 'active'", True),
        unfixable[3],
        (
            "content_not_indexed",
            "lesson:paid-course-intro",
            "lesson of course:paid-course at position 0",
            True,
        ),
    ]

    assert await fix(session, mongo) == [
        ("card_without_content", "course:ghost", "archived (was published)"),
        ("card_out_of_step", "course:paid-course", "set title, source_id from MongoDB"),
        ("card_not_archived", FREE, "archived (was published)"),
        ("index_out_of_step", "lesson:paid-course-more", "set course from MongoDB"),
        ("index_out_of_step", "practice:draft-course-task", "set points from MongoDB"),
        (
            "index_out_of_step",
            "practice:rest-basics-task",
            "set position, title, version from MongoDB",
        ),
        ("index_out_of_step", "quiz:paid-course-check", "set status from MongoDB"),
        ("content_not_indexed", "lesson:paid-course-intro", "inserted from MongoDB"),
    ]
    cards = await session.execute(
        text("SELECT content_id, status, title, price_cents, deleted_at IS NULL FROM courses")
    )
    assert sorted(tuple(row) for row in cards) == [
        ("course:draft-course", "draft", "Course draft-course", None, False),  # not revived
        ("course:ghost", "archived", "Nobody wrote this", None, True),
        ("course:gone-long-ago", "archived", "Nobody wrote this", None, True),
        ("course:paid-course", "published", "Course paid-course", 0, True),  # price: a human's
        (FREE, "archived", f"Course {FREE.removeprefix('course:')}", None, True),
    ]
    rows = await session.execute(
        text(
            "SELECT i.content_id, c.slug, i.position, i.title, i.version, i.points, i.status "
            "FROM content_index i JOIN courses c ON c.id = i.course_id "
            "WHERE i.content_id LIKE '%paid-course%' OR i.content_id LIKE '%-task' "
            "ORDER BY i.content_id"
        )
    )
    assert [tuple(row) for row in rows] == [
        ("lesson:paid-course-intro", "paid-course", 0, "Introduction", 1, 10, "active"),
        ("lesson:paid-course-more", "paid-course", 1, "Going further", 1, 10, "active"),
        ("practice:draft-course-task", "draft-course", 3, "Design endpoints", 1, 20, "active"),
        ("practice:paid-course-task", "paid-course", 3, "Design endpoints", 1, 20, "active"),
        ("practice:rest-basics-task", "rest-basics", 3, "Design endpoints", 1, 20, "active"),
        ("quiz:paid-course-check", "paid-course", 2, "Check", 1, 50, "active"),
    ]
    assert await found(session, mongo) == unfixable
    assert await fix(session, mongo) == []


async def test_damage_inside_mongodb(loaded: Path, session: AsyncSession, mongo: Database) -> None:
    await mongo["questions"].update_one(
        {"_id": "question:bank-order"}, {"$set": {"prompt": "Edited by hand"}}
    )
    await mongo["lesson_content"].update_one(
        {"_id": "lesson:paid-course-more"}, {"$set": {"duration_minutes": -5}}
    )
    await mongo["practice_content"].update_one(
        {"_id": "practice:paid-course-task"}, {"$set": {"course_id": "course:elsewhere"}}
    )
    await mongo["questions"].delete_one({"_id": "question:legacy-1"})
    await mongo["content_versions"].update_one(
        {"_id": "quiz:draft-course-check@1"}, {"$set": {"content_hash": "0" * 64}}
    )
    await mongo["content_loads"].update_one(
        {"_id": "source:test-content"}, {"$set": {"fingerprint": "f" * 64}}
    )
    in_postgres = (
        await session.execute(text("SELECT fingerprint FROM content_loads"))
    ).scalar_one()

    findings = await found(session, mongo)
    hashes = [finding for finding in findings if finding[0] == "hash_mismatch"]
    assert [subject for _, subject, _, _ in hashes] == [
        "practice:paid-course-task",
        "question:bank-order",
    ]
    for _, subject, detail, _ in hashes:
        stored = await mongo[
            "questions" if subject.startswith("question:") else "practice_content"
        ].find_one({"_id": subject})
        assert stored is not None
        assert re.fullmatch(
            rf"content_hash '{stored['content_hash'][:31]}…', content hashes to '[0-9a-f]{{31}}…'",
            detail,
        )
    assert [finding for finding in findings if finding[0] != "hash_mismatch"] == [
        (
            "document_invalid",
            "lesson:paid-course-more",
            "duration_minutes: Input should be greater than or equal to 0",
            False,
        ),
        ("item_missing_course", "practice:paid-course-task", "names course:elsewhere", False),
        ("quiz_missing_question", "quiz:draft-course-check", "lists question:legacy-1", False),
        ("quiz_missing_question", "quiz:paid-course-check", "lists question:legacy-1", False),
        ("quiz_missing_question", QUIZ, "lists question:legacy-1", False),
        (
            "version_differs",
            "quiz:draft-course-check",
            f"v1: document '{(await content_hash_of(mongo, 'quiz:draft-course-check'))[:31]}…', "
            f"snapshot '{'0' * 31}…'",
            False,
        ),
        ("orphan_versions", "question:legacy-1", "1 snapshot(s): v1", False),
        (
            "fingerprint_mismatch",
            "content_loads source:test-content",
            f"MongoDB '{'f' * 31}…', PostgreSQL '{in_postgres[:31]}…'",
            False,
        ),
    ]
    assert await fix(session, mongo) == []  # MongoDB is never written


async def content_hash_of(mongo: Database, quiz: str) -> str:
    stored = await mongo["quiz_content"].find_one({"_id": quiz})
    assert stored is not None
    return str(stored["content_hash"])


async def test_an_author_reorganising_without_prune(
    studied: Account,
    folder: Path,
    session: AsyncSession,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A lesson removed from the folder and one moved to another course, loaded without
    --prune: the loader's catalog is right, yet one lesson stays readable and one
    learner's progress is filed under the old course."""
    courses = folder / "courses"
    (courses / "rest-basics" / "lessons" / "02-more.mdx").unlink()
    shutil.move(
        courses / "rest-basics" / "lessons" / "01-intro.mdx",
        courses / "paid-course" / "lessons" / "00-moved.mdx",
    )
    outlines = {
        "rest-basics": ["lesson:rest-basics-third", QUIZ],
        "paid-course": [
            INTRO,
            "lesson:paid-course-intro",
            "lesson:paid-course-more",
            "quiz:paid-course-check",
        ],
    }
    for slug, items in outlines.items():
        path = courses / slug / "course.json"
        course = json.loads(path.read_text(encoding="utf-8"))
        course["modules"][0]["items"] = items
        write_json(path, course)
    (courses / "rest-basics" / "lessons" / "03-third.mdx").write_text(
        "---\nid: lesson:rest-basics-third\ntitle: Third\n---\n\nText.\n", encoding="utf-8"
    )
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert result.ok, result.problems

    assert await found(session, mongo) == [
        (
            "item_outside_outline",
            MORE,
            f"published, not in the outline of {FREE} (still readable by id)",
            False,
        ),
        (
            "learner_course_mismatch",
            INTRO,
            f"lesson_progress: 1 row(s) of 1 learner(s) under {FREE}, "
            "0 with a note or bookmark; it belongs to course:paid-course",
            False,
        ),
    ]
