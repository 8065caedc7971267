"""[6/8] Practices: ``GET /practices/{id}`` gives the practice as a learner works on it,
never the reference solution or the checks; ``PUT /progress/practices/{id}`` marks it done
so its points count, idempotently."""

import json
from pathlib import Path
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.competencies.helpers import FREE, load, name_competencies
from tests.content.folder import write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

PRACTICE = "practice:rest-basics-task"
PAID_PRACTICE = "practice:paid-course-task"
SECRET_SOLUTION = "GET /books -> 200 # the-reference-solution"


async def with_solution(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name_competencies(folder)
    for slug in ("rest-basics", "paid-course"):
        path = folder / "courses" / slug / "practices" / "task.json"
        practice = json.loads(path.read_text(encoding="utf-8"))
        practice.update(
            reference_solution=SECRET_SOLUTION,
            starter_code="# endpoints\n",
            instructions="Design the **books** endpoints.",
            editor={"tab_size": 2},
            competencies=["rest.resources"],
        )
        write_json(path, practice)
    await load(folder, mongo, sessions)


async def test_a_practice_as_learners_see_it_without_solution_or_checks(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await with_solution(folder, mongo, catalog_sessions)
    response = await client.get(f"/api/v1/practices/{PRACTICE}")  # free course: anyone
    assert response.status_code == 200, response.text
    practice = response.json()
    assert practice == {
        "id": PRACTICE,
        "course_id": FREE,
        "title": "Design endpoints",
        "version": 1,
        "instructions": "Design the **books** endpoints.",
        "language": "http",
        "editor": {"tab_size": 2},
        "starter_code": "# endpoints\n",
        "competencies": ["rest.resources"],
    }
    assert "reference-solution" not in response.text
    assert "GET /books" not in response.text  # the check's expected text
    assert response.headers["etag"]
    again = await client.get(
        f"/api/v1/practices/{PRACTICE}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_who_may_open_a_practice(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    admin: Account,
) -> None:
    await with_solution(folder, mongo, catalog_sessions)
    learner = await sign_up(client)
    paid = f"/api/v1/practices/{PAID_PRACTICE}"
    assert (await client.get(paid)).status_code == 401
    refused = await client.get(paid, headers=learner.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get(paid, headers=admin.headers)).status_code == 200
    hidden = await client.get(
        "/api/v1/practices/practice:draft-course-task", headers=learner.headers
    )
    absent = await client.get("/api/v1/practices/practice:nothing", headers=learner.headers)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"] == "no practice practice:draft-course-task"
    bad = await client.get("/api/v1/practices/lesson:rest-basics-intro")
    assert bad.status_code == 422


async def test_marking_a_practice_done_earns_its_points_once(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    url = f"/api/v1/progress/practices/{PRACTICE}"
    not_enrolled = await client.put(url, json={"status": "completed"}, headers=learner.headers)
    assert not_enrolled.status_code == 403
    await enroll(client, learner, FREE)
    before = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    done = await client.put(url, json={"status": "completed"}, headers=learner.headers)
    assert done.status_code == 200, done.text
    assert (done.json()["practice_id"], done.json()["course_id"], done.json()["status"]) == (
        PRACTICE,
        FREE,
        "completed",
    )
    again = await client.put(url, json={"status": "completed"}, headers=learner.headers)
    assert again.json()["completed_at"] == done.json()["completed_at"]
    after = (await client.get("/api/v1/users/me/stats", headers=learner.headers)).json()
    assert after["points"] - before["points"] == 20  # the test course's practice points
    outline = (await client.get(f"/api/v1/courses/{FREE}/outline", headers=learner.headers)).json()
    assert outline
    for body in ({"status": "started"}, {}, {"status": "completed", "note": "x"}):
        response = await client.put(url, json=body, headers=learner.headers)
        assert response.status_code == 422, body
    missing = await client.put(
        "/api/v1/progress/practices/practice:nothing",
        json={"status": "completed"},
        headers=learner.headers,
    )
    assert missing.status_code == 404
    assert (await client.put(url, json={"status": "completed"})).status_code == 401
