"""The lesson and quiz reads through the version-checked content cache ([8/8] item 2):
one PostgreSQL query each, and no MongoDB once warm; never stale, because the key is the
version and hash PostgreSQL's catalog reports (a quiz's covering its questions)."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from syllabus.content.service import lessons, quizzes
from syllabus.learning.schemas import LessonWithProgress
from tests.content.folder import make_folder, write_course, write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress
from tests.querycount import counting

LESSON = "/api/v1/lessons/lesson:big-course-more"
QUIZ = "/api/v1/quizzes/quiz:big-course-check"


@pytest.mark.parametrize("size", [5, 200])
async def test_lesson_and_quiz_cost_one_query_and_no_mongodb_when_warm(
    counted_app: FastAPI,
    engine: AsyncEngine,
    tmp_path: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    size: int,
) -> None:
    folder = make_folder(tmp_path / "content")
    write_course(folder, "big-course", lessons=size)
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    transport = httpx.ASGITransport(app=counted_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        account = await sign_up(http)
        await enroll(http, account, "course:big-course")
        await progress(http, account, "lesson:big-course-more", status="started", bookmarked=True)
        lessons.clear()
        quizzes.clear()
        seen = {}
        for path in (LESSON, QUIZ):
            async with counting(engine) as cold:
                first = await http.get(path, headers=account.headers)
            async with counting(engine) as warm:
                again = await http.get(path, headers=account.headers)
            assert first.status_code == again.status_code == 200, first.text
            assert again.content == first.content
            assert again.headers["etag"] == first.headers["etag"]
            seen[path] = (cold, warm, first.json())
    for path, mongo_cold in ((LESSON, ["find"]), (QUIZ, ["find", "find"])):
        cold, warm, _ = seen[path]
        assert len(cold["postgresql"]) == 1, cold["postgresql"]
        assert cold["mongodb"] == mongo_cold  # the quiz, then all its questions at once
        assert len(warm["postgresql"]) == 1, warm["postgresql"]
        assert warm["mongodb"] == []
    lesson = LessonWithProgress.model_validate(seen[LESSON][2])  # the documented shape
    assert lesson.progress is not None
    assert (lesson.progress.status, lesson.progress.bookmarked) == ("started", True)
    assert lesson.previous is not None
    assert lesson.previous.id == "lesson:big-course-intro"
    assert lesson.next is not None
    assert len(seen[QUIZ][2]["questions"]) == 3


async def test_the_cache_is_shared_but_the_personal_part_is_not(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    """One cached lesson, several viewers: each sees their own record, and a change to it
    changes the ETag (a 304 never answers a stale note)."""
    path = "/api/v1/lessons/lesson:rest-basics-intro"  # a preview: anyone may open it
    await enroll(client, learner, "course:rest-basics")
    await progress(client, learner, "lesson:rest-basics-intro", note="mine")
    anonymous = (await client.get(path)).json()
    mine = await client.get(path, headers=learner.headers)
    assert anonymous["progress"] is None
    assert mine.json()["progress"]["note"] == "mine"
    assert {k: v for k, v in mine.json().items() if k != "progress"} == {
        k: v for k, v in anonymous.items() if k != "progress"
    }
    await progress(client, learner, "lesson:rest-basics-intro", note="changed")
    again = await client.get(
        path, headers={**learner.headers, "If-None-Match": mine.headers["etag"]}
    )
    assert again.status_code == 200
    assert again.json()["progress"]["note"] == "changed"


async def test_warm_lessons_and_quizzes_are_never_stale(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Warm every cache, load new content, read it back at once through every cached
    route: the new lesson, the new quiz, and a quiz whose only change is one question
    (the quiz document itself is unchanged, so only its questions' hashes can tell)."""
    await enroll(client, learner, "course:rest-basics")
    lesson_path = "/api/v1/lessons/lesson:rest-basics-intro"
    quiz_path = "/api/v1/quizzes/quiz:rest-basics-check"
    outline_path = "/api/v1/courses/rest-basics/outline"
    before = {}
    for path in (lesson_path, quiz_path, outline_path):
        before[path] = (await client.get(path, headers=learner.headers)).json()
        assert (await client.get(path, headers=learner.headers)).json() == before[path]
    assert len(lessons)
    assert len(quizzes)
    course = loaded / "courses" / "rest-basics"
    lesson = course / "lessons" / "01-intro.mdx"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("Plain Markdown text", "Edited text"),
        encoding="utf-8",
    )
    quiz_file = course / "quizzes" / "check.json"
    quiz = json.loads(quiz_file.read_text(encoding="utf-8"))
    quiz["questions"][2]["prompt"] = "Resources are nouns, not verbs."  # an inline question
    write_json(quiz_file, quiz)
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    read = (await client.get(lesson_path, headers=learner.headers)).json()
    assert "Edited text" in read["source"]
    assert read["version"] == before[lesson_path]["version"] + 1
    after = (await client.get(quiz_path, headers=learner.headers)).json()
    assert after["version"] == before[quiz_path]["version"]  # the quiz itself is unchanged
    prompts = [question["prompt"] for question in after["questions"]]
    assert "Resources are nouns, not verbs." in prompts
    # A bank question, loaded with the quiz: same, and the outline too stays fresh.
    bank = loaded / "questions" / "bank.json"
    questions = json.loads(bank.read_text(encoding="utf-8"))
    questions[0]["prompt"] = "Which method is safe, again?"
    write_json(bank, questions)
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    after = (await client.get(quiz_path, headers=learner.headers)).json()
    assert "Which method is safe, again?" in [q["prompt"] for q in after["questions"]]


async def test_a_row_without_a_hash_is_served_and_never_cached(
    client: httpx.AsyncClient, loaded: Path, session: AsyncSession
) -> None:
    """Rows loaded before content_index had hashes: always MongoDB, never kept."""
    await session.execute(
        text("UPDATE content_index SET content_hash = NULL WHERE content_id = :id"),
        {"id": "lesson:rest-basics-intro"},
    )
    lessons.clear()
    response = await client.get("/api/v1/lessons/lesson:rest-basics-intro")
    assert response.status_code == 200
    assert len(lessons) == 0
