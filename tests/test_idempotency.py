"""Idempotency-Key on progress writes and quiz starts: a retry replays the first answer
byte for byte and writes nothing; the same key with another request is a 422 naming the
header; concurrent requests with one key do the work once; keys expire after 24 h and go
with an erased account."""

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import Account
from tests.learning.helpers import activity, enroll
from tests.probe import assert_problem

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"
QUIZ = "quiz:rest-basics-check"
KEY = "progress-key-0001"


async def put(
    client: httpx.AsyncClient, account: Account, lesson: str, key: str, **body: object
) -> httpx.Response:
    return await client.put(
        f"/api/v1/progress/lessons/{lesson}",
        json=body,
        headers={**account.headers, "Idempotency-Key": key},
    )


async def count(session: AsyncSession, sql: str, account: Account) -> int:
    value: int = (await session.execute(text(sql), {"u": account.id})).scalar_one()
    return value


async def test_a_retry_replays_the_first_answer_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    first = await put(client, learner, INTRO, KEY, status="started", note="first")
    assert first.status_code == 200, first.text
    other = await put(client, learner, INTRO, "progress-key-0002", status="completed", note="x")
    assert other.json()["status"] == "completed"
    again = await put(client, learner, INTRO, KEY, note="first", status="started")  # key order
    assert again.status_code == 200
    assert again.content == first.content  # the stored answer, not the lesson's state now
    assert again.headers["content-type"] == "application/json"
    assert await activity(session, learner) == [
        ("enrolled", FREE),
        ("started", INTRO),
        ("completed", INTRO),
        ("earned", "first-lesson"),
    ]
    assert (
        await count(session, "SELECT count(*) FROM idempotency_keys WHERE user_id = :u", learner)
        == 2
    )


async def test_the_same_key_with_another_request_is_refused_naming_the_header(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    assert (await put(client, learner, INTRO, KEY, status="started")).status_code == 200
    for lesson, body in ((INTRO, {"status": "completed"}), (MORE, {"status": "started"})):
        refused = await put(client, learner, lesson, KEY, **body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert refused.json()["field"] == "Idempotency-Key"
    short = await put(client, learner, INTRO, "short", status="started")
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["Idempotency-Key"]


async def test_a_failed_request_leaves_its_key_unused(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    forbidden = await put(client, learner, INTRO, KEY, status="started")
    assert forbidden.status_code == 403  # not enrolled: rolled back, key and all
    await enroll(client, learner, FREE)
    assert (await put(client, learner, INTRO, KEY, status="started")).status_code == 200


@pytest.mark.parametrize("key", ["short-7", "k" * 256])
async def test_a_key_outside_8_to_255_characters_is_a_422_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account, key: str
) -> None:
    await enroll(client, learner, FREE)
    for refused in (
        await put(client, learner, INTRO, key, status="started"),
        await client.post(
            f"/api/v1/quizzes/{QUIZ}/attempts",
            headers={**learner.headers, "Idempotency-Key": key},
        ),
    ):
        body = assert_problem(refused, 422)
        assert [error["field"] for error in body["errors"]] == ["Idempotency-Key"]
    for table in ("lesson_progress", "quiz_attempts", "idempotency_keys"):
        sql = f"SELECT count(*) FROM {table} WHERE user_id = :u"
        assert await count(session, sql, learner) == 0, table


async def test_keys_are_kept_24_hours_then_start_afresh(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    assert (await put(client, learner, INTRO, KEY, status="started")).status_code == 200
    await session.execute(
        text(
            "UPDATE idempotency_keys SET created_at = created_at - interval '23 hours' "
            "WHERE user_id = :u"
        ),
        {"u": learner.id},
    )
    assert (await put(client, learner, INTRO, KEY, status="completed")).status_code == 422
    await session.execute(
        text(
            "UPDATE idempotency_keys SET created_at = created_at - interval '2 hours' "
            "WHERE user_id = :u"
        ),
        {"u": learner.id},
    )
    fresh = await put(client, learner, INTRO, KEY, status="completed")
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["status"] == "completed"


async def test_quiz_start_with_a_key_is_replayed(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    headers = {**learner.headers, "Idempotency-Key": "start-key-0001"}
    first = await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=headers)
    again = await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.content == first.content
    assert (
        await count(session, "SELECT count(*) FROM quiz_attempts WHERE user_id = :u", learner) == 1
    )
    unkeyed = await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=learner.headers)
    assert unkeyed.status_code == 409  # without a key, a second start is a second start


async def test_erasure_deletes_the_stored_answers(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    assert (await put(client, learner, INTRO, KEY, status="started", note="private")).is_success
    erased = await client.delete("/api/v1/users/me", headers=learner.headers)
    assert erased.status_code == 204, erased.text
    assert (
        await count(session, "SELECT count(*) FROM idempotency_keys WHERE user_id = :u", learner)
        == 0
    )


async def test_concurrent_requests_with_one_key_do_the_work_once(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    account = live_learner
    replies = await asyncio.gather(
        *(put(live_client, account, INTRO, KEY, status="completed") for _ in range(20))
    )
    assert {r.status_code for r in replies} == {200}, {r.text for r in replies}
    assert len({r.content for r in replies}) == 1
    async with app.state.engine.connect() as connection:
        events = (
            await connection.execute(
                text(
                    "SELECT verb, count(*) FROM activity_log WHERE actor_id = :u "
                    "GROUP BY verb ORDER BY verb"
                ),
                {"u": account.id},
            )
        ).all()
        keys = (
            await connection.execute(
                text("SELECT count(*) FROM idempotency_keys WHERE user_id = :u"), {"u": account.id}
            )
        ).scalar_one()
    assert [tuple(e) for e in events] == [
        ("completed", 1),
        ("earned", 1),
        ("enrolled", 1),
        ("registered", 1),
        ("started", 1),
    ]
    assert keys == 1
