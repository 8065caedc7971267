"""Quiz attempts through the API on the real stores: limits, autosave, idempotent
submission, grading against the version shown, deadlines, review, immutability."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import write_course
from tests.content.test_read_api import ANSWER_FIELDS, walk_keys
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress
from tests.probe import assert_problem

FREE = "course:rest-basics"
QUIZ = "quiz:rest-basics-check"
RIGHT: list[dict[str, Any]] = [
    {"question_id": "question:bank-safe-method", "answer": "b"},
    {"question_id": "question:legacy-1", "answer": 429},
    {"question_id": "question:rest-basics-nouns", "answer": True},
]


@pytest.fixture
async def enrolled(client: httpx.AsyncClient, loaded: Path, learner: Account) -> Account:
    await enroll(client, learner, FREE)
    return learner


async def start(client: httpx.AsyncClient, account: Account, quiz: str = QUIZ) -> httpx.Response:
    return await client.post(f"/api/v1/quizzes/{quiz}/attempts", headers=account.headers)


async def submit(
    client: httpx.AsyncClient,
    account: Account,
    attempt: str,
    answers: list[dict[str, Any]],
    key: str,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/quiz-attempts/{attempt}/submit",
        json={"answers": answers},
        headers={**account.headers, "Idempotency-Key": key},
    )


async def test_start_gives_the_questions_without_answers(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    response = await start(client, enrolled)
    assert response.status_code == 201, response.text
    attempt = response.json()
    assert (attempt["attempt_no"], attempt["status"], attempt["deadline"], attempt["review"]) == (
        1,
        "open",
        None,
        None,
    )
    assert [q["id"] for q in attempt["questions"]] == [a["question_id"] for a in RIGHT]
    assert not walk_keys(attempt) & ANSWER_FIELDS


async def test_who_may_start(client: httpx.AsyncClient, loaded: Path, learner: Account) -> None:
    assert (await client.post(f"/api/v1/quizzes/{QUIZ}/attempts")).status_code == 401
    assert (await start(client, learner)).status_code == 403
    assert (await start(client, learner, "quiz:nothing")).status_code == 404
    assert (await start(client, learner, "lesson:nope")).status_code == 422


async def test_one_open_attempt_at_a_time(client: httpx.AsyncClient, enrolled: Account) -> None:
    first = (await start(client, enrolled)).json()
    second = await start(client, enrolled)
    assert assert_problem(second, 409, "attempt-open")["attempt_id"] == first["id"]


async def test_submit_grades_on_the_server_and_replays_identically(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    first = await submit(client, enrolled, attempt, RIGHT, "key-000001")
    assert first.status_code == 200, first.text
    graded = first.json()
    assert (graded["status"], graded["score"], graded["max_score"], graded["passed"]) == (
        "submitted",
        3.0,
        3.0,
        True,
    )
    assert [r["correct"] for r in graded["review"]] == [True, True, True]
    assert graded["review"][0]["correct_answer"] == {"type": "single_choice", "correct": "b"}
    assert graded["review"][0]["explanation"] == "GET does not change state."
    again = await submit(client, enrolled, attempt, RIGHT, "key-000001")
    assert again.status_code == 200
    assert again.content == first.content
    other_body = await submit(client, enrolled, attempt, RIGHT[:1], "key-000001")
    assert_problem(other_body, 422, "idempotency-key-reused")
    new_key = await submit(client, enrolled, attempt, RIGHT, "key-000002")
    assert_problem(new_key, 409, "attempt-submitted")
    details = (
        await session.execute(
            text("SELECT details FROM quiz_attempts WHERE id = :id"), {"id": attempt}
        )
    ).scalar_one()
    snapshot = details["questions"][0]
    assert (snapshot["question_id"], snapshot["version"], snapshot["points"]) == (
        "question:bank-safe-method",
        1,
        1.0,
    )
    assert len(snapshot["content_hash"]) == 64
    assert snapshot["shown"]["prompt"] == "Which method is safe?"
    assert details["quiz"]["version"] == 1


async def test_submit_needs_an_idempotency_key(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    response = await client.post(
        f"/api/v1/quiz-attempts/{attempt}/submit", json={"answers": RIGHT}, headers=enrolled.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_partial_and_wrong_answers(client: httpx.AsyncClient, enrolled: Account) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    graded = (
        await submit(
            client,
            enrolled,
            attempt,
            [{"question_id": "question:bank-safe-method", "answer": "a"}, RIGHT[1]],
            "key-partial",
        )
    ).json()
    assert (graded["score"], graded["max_score"], graded["passed"]) == (1.0, 3.0, False)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            [{"question_id": "question:elsewhere", "answer": 1}],
            "question:elsewhere is not a question of this attempt",
        ),
        ([RIGHT[0], RIGHT[0]], "question:bank-safe-method is answered twice"),
        (
            [{"question_id": "question:legacy-1", "answer": "429"}],
            "question:legacy-1 answer must be a number",
        ),
        (
            [{"question_id": "question:bank-safe-method", "answer": "z"}],
            "question:bank-safe-method answer must be one option id",
        ),
    ],
)
async def test_bad_answers_are_refused_naming_the_question(
    client: httpx.AsyncClient,
    session: AsyncSession,
    enrolled: Account,
    answers: list[dict[str, Any]],
    message: str,
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    for response in (
        await client.put(
            f"/api/v1/quiz-attempts/{attempt}/answers",
            json={"answers": answers},
            headers=enrolled.headers,
        ),
        await submit(client, enrolled, attempt, answers, "key-bad-answers"),
    ):
        assert response.status_code == 422
        assert response.json()["detail"] == message
    submitted = (
        await session.execute(
            text("SELECT submitted_at FROM quiz_attempts WHERE id = :id"), {"id": attempt}
        )
    ).scalar_one()
    assert submitted is None


async def test_autosave_and_deadline_grading(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    saved = await client.put(
        f"/api/v1/quiz-attempts/{attempt}/answers",
        json={"answers": RIGHT[:2]},
        headers=enrolled.headers,
    )
    assert saved.status_code == 200
    assert saved.json()["answers"] == {"question:bank-safe-method": "b", "question:legacy-1": 429}
    await session.execute(
        text(
            "UPDATE quiz_attempts SET deadline = statement_timestamp() - interval '31 seconds' WHERE id = :id"
        ),
        {"id": attempt},
    )
    late = await submit(client, enrolled, attempt, RIGHT, "key-too-late")
    assert_problem(late, 409, "attempt-expired")
    read = (await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=enrolled.headers)).json()
    assert (read["status"], read["score"], read["passed"]) == ("submitted", 2.0, True)


async def test_grading_uses_the_version_the_attempt_started_with(
    client: httpx.AsyncClient,
    enrolled: Account,
    loaded: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    bank = loaded / "questions" / "bank.json"
    questions = json.loads(bank.read_text(encoding="utf-8"))
    questions[0]["correct"] = "a"  # the author changes the key after the attempt started
    bank.write_text(json.dumps(questions), encoding="utf-8")
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    graded = (await submit(client, enrolled, attempt, RIGHT, "key-version")).json()
    assert graded["review"][0]["correct"] is True  # graded against version 1 ("b")
    assert graded["score"] == 3.0


async def test_expired_attempts_settled_together_use_each_their_own_versions(
    client: httpx.AsyncClient,
    session: AsyncSession,
    enrolled: Account,
    loaded: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two quizzes share a bank question whose key changes between their starts: one
    listing settles both, each against the version it showed."""
    write_course(loaded, "second")
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    await enroll(client, enrolled, "course:second")
    first = (await start(client, enrolled)).json()["id"]
    bank = loaded / "questions" / "bank.json"
    questions = json.loads(bank.read_text(encoding="utf-8"))
    questions[0]["correct"] = "a"  # version 2 of question:bank-safe-method
    bank.write_text(json.dumps(questions), encoding="utf-8")
    assert (await load_folder(loaded, database=mongo, sessionmaker=catalog_sessions)).ok
    second = (await start(client, enrolled, "quiz:second-check")).json()["id"]
    for attempt, nouns in (
        (first, "question:rest-basics-nouns"),
        (second, "question:second-nouns"),
    ):
        saved = await client.put(
            f"/api/v1/quiz-attempts/{attempt}/answers",
            json={"answers": [*RIGHT[:2], {"question_id": nouns, "answer": True}]},
            headers=enrolled.headers,
        )
        assert saved.status_code == 200, saved.text
    await session.execute(
        text(
            "UPDATE quiz_attempts SET deadline = statement_timestamp() - interval '1 minute' "
            "WHERE user_id = :user"
        ),
        {"user": enrolled.id},
    )
    listed = await client.get("/api/v1/quiz-attempts", headers=enrolled.headers)
    assert {item["id"]: (item["status"], item["score"]) for item in listed.json()["items"]} == {
        first: ("submitted", 3.0),  # "b" was right in version 1
        second: ("submitted", 2.0),  # and wrong in version 2
    }
    for attempt, key in ((first, "b"), (second, "a")):
        read = await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=enrolled.headers)
        assert read.json()["review"][0]["correct_answer"]["correct"] == key


async def test_attempt_limit_and_course_completion(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    await progress(client, enrolled, "lesson:rest-basics-intro", status="completed")
    await progress(client, enrolled, "lesson:rest-basics-more", status="completed")
    for n in range(3):
        attempt = (await start(client, enrolled)).json()["id"]
        answers = RIGHT if n == 2 else RIGHT[:1]
        await submit(client, enrolled, attempt, answers, f"key-limit-{n}")
    status = (
        await session.execute(
            text("SELECT status FROM enrollments WHERE user_id = :u"), {"u": enrolled.id}
        )
    ).scalar_one()
    assert status == "completed"  # the passing quiz was the last requirement
    refused = await start(client, enrolled)
    assert assert_problem(refused, 409, "attempt-limit-reached")["attempts_used"] == 3
    listed = (
        await client.get(
            "/api/v1/quiz-attempts", params={"quiz_id": QUIZ}, headers=enrolled.headers
        )
    ).json()["items"]
    assert [(a["attempt_no"], a["passed"]) for a in listed] == [(1, False), (2, False), (3, True)]


async def test_nobody_else_reads_or_submits_my_attempt(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    other = await sign_up(client)
    assert (
        await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=other.headers)
    ).status_code == 404
    assert (await submit(client, other, attempt, RIGHT, "key-stranger")).status_code == 404
    listed = (await client.get("/api/v1/quiz-attempts", headers=other.headers)).json()
    assert listed == {"items": [], "next_cursor": None}


async def test_submitted_attempts_cannot_change_even_in_sql(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    await session.execute(
        text("UPDATE quiz_attempts SET saved_answers = '{}' WHERE id = :id"), {"id": attempt}
    )  # open: fine
    await submit(client, enrolled, attempt, RIGHT, "key-immutable")
    for statement in (
        "UPDATE quiz_attempts SET score = 0 WHERE id = :id",
        "DELETE FROM quiz_attempts WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match="is submitted and cannot change"):
            async with session.begin_nested():
                await session.execute(text(statement), {"id": attempt})


async def test_parallel_starts_and_a_thousand_replays(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    account = live_learner
    created = []
    for round_no in range(4):
        responses = await asyncio.gather(*(start(live_client, account) for _ in range(10)))
        ok = [r for r in responses if r.status_code == 201]
        assert {r.status_code for r in responses} <= {201, 409}
        if round_no < 3:
            assert len(ok) == 1
            created.append(ok[0].json()["id"])
            if round_no < 2:
                await submit(live_client, account, created[-1], RIGHT[:1], f"key-round-{round_no}")
        else:
            assert ok == []
    # The third attempt is open: a thousand replays of one submission, 50 at a time.
    limit = asyncio.Semaphore(50)

    async def replay() -> httpx.Response:
        async with limit:
            return await submit(live_client, account, created[-1], RIGHT, "key-thousand")

    replies = await asyncio.gather(*(replay() for _ in range(1000)))
    assert {r.status_code for r in replies} == {200}
    assert len({r.content for r in replies}) == 1
    async with app.state.engine.connect() as connection:
        attempts = (
            await connection.execute(text("SELECT count(*) FROM quiz_attempts"))
        ).scalar_one()
        submitted = (
            await connection.execute(
                text("SELECT count(*) FROM quiz_attempts WHERE submitted_at IS NOT NULL")
            )
        ).scalar_one()
    assert (attempts, submitted) == (3, 3)


async def test_open_attempts_never_show_answers_and_time_up_stops_autosave(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    saved = await client.put(
        f"/api/v1/quiz-attempts/{attempt}/answers",
        json={"answers": RIGHT},
        headers=enrolled.headers,
    )
    read = await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=enrolled.headers)
    for response in (saved, read):
        body = response.json()
        assert body["review"] is None
        assert not walk_keys(body["questions"]) & ANSWER_FIELDS
    await session.execute(
        text(
            "UPDATE quiz_attempts SET deadline = statement_timestamp() - interval '1 minute' WHERE id = :id"
        ),
        {"id": attempt},
    )
    late = await client.put(
        f"/api/v1/quiz-attempts/{attempt}/answers",
        json={"answers": RIGHT},
        headers=enrolled.headers,
    )
    assert late.status_code == 409


async def test_erasing_a_learner_keeps_their_attempts(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    attempt = (await start(client, enrolled)).json()["id"]
    await submit(client, enrolled, attempt, RIGHT, "key-before-erase")
    assert (await client.delete("/api/v1/users/me", headers=enrolled.headers)).status_code == 204
    row = (
        await session.execute(
            text(
                "SELECT a.score, u.email FROM quiz_attempts a JOIN users u ON u.id = a.user_id WHERE a.id = :id"
            ),
            {"id": attempt},
        )
    ).one()
    assert float(row.score) == 3.0
    assert row.email.endswith("@erased.invalid")


async def test_assessment_routes_refuse_bad_input(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    headers = enrolled.headers
    checks = [
        (
            await client.get(
                "/api/v1/quiz-attempts", params={"quiz_id": "lesson:x"}, headers=headers
            ),
            422,
        ),
        (await client.get("/api/v1/quiz-attempts/not-an-id", headers=headers), 422),
        (
            await client.get(
                "/api/v1/quiz-attempts/01a20000-0000-7000-8000-000000000000", headers=headers
            ),
            404,
        ),
        (
            await client.put(
                "/api/v1/quiz-attempts/01a20000-0000-7000-8000-000000000000/answers",
                json={"answers": []},
                headers=headers,
            ),
            404,
        ),
        (
            await client.put(
                "/api/v1/quiz-attempts/01a20000-0000-7000-8000-000000000000/answers",
                json={"answers": "all"},
                headers=headers,
            ),
            422,
        ),
        (await client.post("/api/v1/users/me/achievements/not-an-id/seen", headers=headers), 422),
        (
            await client.post(
                "/api/v1/users/me/achievements/01a20000-0000-7000-8000-000000000000/seen",
                headers=headers,
            ),
            404,
        ),
        (await client.get("/api/v1/users/me/achievements"), 401),
        (await client.get("/api/v1/quiz-attempts"), 401),
    ]
    for response, status in checks:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    attempt = (await start(client, enrolled)).json()["id"]
    extra = await client.post(
        f"/api/v1/quiz-attempts/{attempt}/submit",
        json={"answers": RIGHT, "score": 100},
        headers={**headers, "Idempotency-Key": "key-extra-field"},
    )
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "score"
