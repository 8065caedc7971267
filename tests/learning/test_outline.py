"""The outline with my progress: statuses, rollup, where to resume, and its cost: one
PostgreSQL query and one MongoDB query whatever the number of lessons."""

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
from syllabus.content.service import outlines
from syllabus.learning.schemas import OutlineWithProgress
from tests.content.folder import make_folder, write_course
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, pass_quiz, progress
from tests.querycount import counting

FREE = "course:rest-basics"
OUTLINE = "/api/v1/courses/rest-basics/outline"


def items(outline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for module in outline["modules"] for item in module["items"]}


async def test_outline_shows_my_progress_and_where_to_resume(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    outline = (await client.get(OUTLINE, headers=learner.headers)).json()
    assert outline["progress"]["resume"] == {
        "item_id": "lesson:rest-basics-intro",
        "position": None,
    }
    assert outline["progress"]["percent_complete"] == 0.0
    assert outline["progress"]["last_activity_at"] is None

    await progress(client, learner, "lesson:rest-basics-intro", status="completed")
    outline = (await client.get(OUTLINE, headers=learner.headers)).json()
    assert (
        outline["progress"]["resume"]["item_id"] == "lesson:rest-basics-more"
    )  # next after completed
    await progress(
        client,
        learner,
        "lesson:rest-basics-more",
        status="started",
        position={"second": 42},
        bookmarked=True,
    )
    outline = (await client.get(OUTLINE, headers=learner.headers)).json()
    rollup = outline["progress"]
    assert rollup["resume"] == {"item_id": "lesson:rest-basics-more", "position": {"second": 42}}
    assert (rollup["completed_required"], rollup["total_required"]) == (1, 3)
    assert rollup["percent_complete"] == 33.3
    assert rollup["enrollment_status"] == "active"
    assert rollup["last_activity_at"] is not None
    state = items(outline)
    assert state["lesson:rest-basics-intro"]["status"] == "completed"
    assert (
        state["lesson:rest-basics-more"]["status"],
        state["lesson:rest-basics-more"]["bookmarked"],
    ) == ("started", True)
    assert state["quiz:rest-basics-check"]["status"] == "not_started"

    # The hand-built body is exactly the documented response model.
    OutlineWithProgress.model_validate(outline)
    await pass_quiz(session, learner, "quiz:rest-basics-check", FREE)
    outline = (await client.get(OUTLINE, headers=learner.headers)).json()
    OutlineWithProgress.model_validate(outline)
    assert items(outline)["quiz:rest-basics-check"]["status"] == "passed"
    assert outline["progress"]["completed_required"] == 2


async def test_outline_is_personal_and_its_etag_follows_my_progress(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    other = await sign_up(client)
    await progress(client, learner, "lesson:rest-basics-intro", status="completed")
    theirs = (await client.get(OUTLINE, headers=other.headers)).json()
    assert theirs["progress"] is None
    assert {item["status"] for item in items(theirs).values()} == {"not_started"}
    first = await client.get(OUTLINE, headers=learner.headers)
    same = await client.get(
        OUTLINE, headers={**learner.headers, "If-None-Match": first.headers["etag"]}
    )
    assert same.status_code == 304
    await progress(client, learner, "lesson:rest-basics-more", status="started")
    changed = await client.get(
        OUTLINE, headers={**learner.headers, "If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200


async def test_outline_refuses_bad_tokens_and_hides_drafts(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    bad = await client.get(OUTLINE, headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    assert (
        await client.get("/api/v1/courses/draft-course/outline", headers=learner.headers)
    ).status_code == 404
    await session.execute(
        text("UPDATE users SET deleted_at = now() WHERE id = :u"), {"u": learner.id}
    )
    assert (await client.get(OUTLINE, headers=learner.headers)).status_code == 401


@pytest.mark.parametrize("lessons", [5, 200])
async def test_outline_costs_one_query_per_store_whatever_the_size(
    counted_app: FastAPI,
    engine: AsyncEngine,
    tmp_path: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    lessons: int,
) -> None:
    folder = make_folder(tmp_path / "content")
    write_course(folder, "big-course", lessons=lessons)
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    transport = httpx.ASGITransport(app=counted_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        account = await sign_up(http)
        await enroll(http, account, "course:big-course")
        for n in range(min(lessons - 2, 50)):
            await progress(http, account, f"lesson:big-course-extra-{n}", status="completed")
        outlines.clear()
        async with counting(engine) as cold:
            response = await http.get("/api/v1/courses/big-course/outline", headers=account.headers)
        async with counting(engine) as warm:
            again = await http.get("/api/v1/courses/big-course/outline", headers=account.headers)
    assert response.status_code == 200
    outline = response.json()
    assert sum(len(m["items"]) for m in outline["modules"]) == lessons + 2
    assert outline["progress"]["completed_required"] == min(lessons - 2, 50)
    assert len(cold["postgresql"]) == 1, cold["postgresql"]
    assert cold["mongodb"] == ["find"]
    # Warm: the outline comes from the process's cache, keyed by PostgreSQL's version.
    assert again.json() == outline
    assert len(warm["postgresql"]) == 1, warm["postgresql"]
    assert warm["mongodb"] == []


async def test_a_warm_outline_is_never_stale(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Load new content while the cache is warm, read it back at once: the new outline,
    the new lesson, the new quiz, through every route that serves them."""
    await enroll(client, learner, "course:rest-basics")
    before = (await client.get(OUTLINE, headers=learner.headers)).json()
    assert before == (await client.get(OUTLINE, headers=learner.headers)).json()  # warm
    course = loaded / "courses" / "rest-basics" / "course.json"
    data = json.loads(course.read_text(encoding="utf-8"))
    data["title"] = "Renamed while warm"
    data["modules"][0]["title"] = "One, renamed"
    data["modules"][0]["items"].remove("lesson:rest-basics-more")
    data["modules"][1]["items"].insert(0, "lesson:rest-basics-more")
    course.write_text(json.dumps(data), encoding="utf-8")
    lesson = loaded / "courses" / "rest-basics" / "lessons" / "01-intro.mdx"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("Plain Markdown text", "Edited text"),
        encoding="utf-8",
    )
    quiz = loaded / "courses" / "rest-basics" / "quizzes" / "check.json"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace('"Check"', '"Check again"'))
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    after = (await client.get(OUTLINE, headers=learner.headers)).json()
    assert after["title"] == "Renamed while warm"
    assert after["modules"][0]["title"] == "One, renamed"
    assert "lesson:rest-basics-more" not in [i["id"] for i in after["modules"][0]["items"]]
    assert after["modules"][1]["items"][0]["id"] == "lesson:rest-basics-more"
    assert after["version"] == before["version"] + 1
    read = (await client.get("/api/v1/lessons/lesson:rest-basics-intro")).json()
    assert "Edited text" in read["source"]
    assert (
        await client.get("/api/v1/quizzes/quiz:rest-basics-check", headers=learner.headers)
    ).json()["title"] == "Check again"
