"""[1/8] item 4: a course with nothing required, or an archived one, is never completed by
what a learner does. Reported: after ``content load --prune`` archived a course, a
*failed* submission of its open quiz attempt completed the enrollment and awarded the
course-completed achievement (0 required items read as "all done")."""

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.assessment.test_attempts import start, submit
from tests.content.folder import write_json
from tests.identity.helpers import Account
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"
WRONG = [{"question_id": "question:bank-safe-method", "answer": "a"}]
NOT_COMPLETED = {"status": "active", "awards": 0, "completed_events": 0, "complete": False}
GRADUATE = {"code": "graduate", "title": "Graduate", "rule": {"type": "course_completed"}}


async def load(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    sessions: async_sessionmaker[AsyncSession],
    *,
    prune: bool = False,
) -> None:
    result = await load_folder(folder, database=mongo, sessionmaker=sessions, prune=prune)
    assert result.ok, result.problems


async def record(session: AsyncSession, account: Account) -> dict[str, Any]:
    """What the learner's completion looks like in the database."""
    row = (
        await session.execute(
            text(
                """
                SELECT e.status,
                  (SELECT count(*) FROM user_achievements WHERE user_id = e.user_id) AS awards,
                  (SELECT count(*) FROM activity_log WHERE actor_id = e.user_id
                     AND verb = 'completed' AND object_type = 'course') AS completed_events,
                  (SELECT complete FROM course_completion c
                    WHERE c.user_id = e.user_id AND c.course_id = e.course_id) AS complete
                FROM enrollments e WHERE e.user_id = :user
                """
            ),
            {"user": account.id},
        )
    ).one()
    return dict(row._mapping)


async def test_archiving_a_course_does_not_complete_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    folder: Path,
    learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    write_json(folder / "achievements.json", [GRADUATE])
    await load(folder, mongo, catalog_sessions)
    await enroll(client, learner, FREE)
    attempt = (await start(client, learner)).json()["id"]

    shutil.rmtree(folder / "courses" / "rest-basics")
    await load(folder, mongo, catalog_sessions, prune=True)
    status = (
        await session.execute(text("SELECT status FROM courses WHERE content_id = :c"), {"c": FREE})
    ).scalar_one()
    assert status == "archived"

    failed = await submit(client, learner, attempt, WRONG, "key-after-prune")
    assert failed.status_code == 200, failed.text
    assert failed.json()["passed"] is False
    assert await record(session, learner) == NOT_COMPLETED


async def test_a_course_with_nothing_required_is_never_completed(
    client: httpx.AsyncClient,
    session: AsyncSession,
    folder: Path,
    learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    write_json(folder / "achievements.json", [GRADUATE])
    course_file = folder / "courses" / "rest-basics" / "course.json"
    course = json.loads(course_file.read_text(encoding="utf-8"))
    course["completion"] = {"lessons": [], "quizzes": []}
    write_json(course_file, course)
    await load(folder, mongo, catalog_sessions)
    await enroll(client, learner, FREE)

    for lesson in ("lesson:rest-basics-intro", "lesson:rest-basics-more"):
        saved = await progress(client, learner, lesson, status="completed")
        assert saved.status_code == 200, saved.text
        assert saved.json()["course_completed"] is False
    attempt = (await start(client, learner)).json()["id"]
    assert (
        await submit(client, learner, attempt, WRONG, "key-nothing-required")
    ).status_code == 200
    assert await record(session, learner) == NOT_COMPLETED
    outline = (await client.get(f"/api/v1/courses/{FREE}/outline", headers=learner.headers)).json()
    assert outline["progress"]["percent_complete"] == 0
    assert outline["progress"]["enrollment_status"] == "active"
