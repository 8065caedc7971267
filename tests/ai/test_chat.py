"""The tutor chat against the test model server, through the real ``openai`` client:
streaming, what is stored when a reply is cut, failures, the circuit, the budget, the
lock during an attempt, and the rule that the model is never given an answer key."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from syllabus.content.loader.run import load_folder
from tests.ai.fixtures import Configure
from tests.ai.model_server import ModelServer
from tests.exams.conftest import answers_for, write_exams
from tests.exams.conftest import start as start_exam
from tests.exams.conftest import submit as submit_exam
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll
from tests.openapi import openapi_document
from tests.serving import serve

LESSON = "lesson:rest-basics-more"
COURSE = "course:rest-basics"
API = "/api/v1"


def events(body: str) -> list[tuple[str, Any]]:
    """A text/event-stream body → (event, data) pairs."""
    found = []
    for chunk in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


async def open_session(client: httpx.AsyncClient, account: Account, **body: object) -> str:
    response = await client.post(
        f"{API}/chat/sessions",
        json=body or {"course_id": COURSE, "lesson_id": LESSON},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def ask(
    client: httpx.AsyncClient, account: Account, session_id: str, text: str
) -> httpx.Response:
    return await client.post(
        f"{API}/chat/sessions/{session_id}/messages",
        json={"content": text},
        headers=account.headers,
    )


async def stored(
    client: httpx.AsyncClient, account: Account, session_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/chat/sessions/{session_id}/messages", headers=account.headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def block_id(client: httpx.AsyncClient, account: Account) -> str:
    lesson = (await client.get(f"{API}/lessons/{LESSON}", headers=account.headers)).json()
    return str(next(b["id"] for b in lesson["blocks"] if b["kind"] == "paragraph"))


async def test_without_a_model_server_the_chat_names_the_setting(
    live_client: httpx.AsyncClient, live_learner: Account
) -> None:
    session_id = await open_session(live_client, live_learner)
    response = await ask(live_client, live_learner, session_id, "What is a resource?")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["setting"] == "SYLLABUS_AI_BASE_URL"
    assert await stored(live_client, live_learner, session_id) == []  # refused, not half-stored


async def test_the_reply_streams_and_both_messages_are_stored_with_citations(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
) -> None:
    cited = await block_id(live_client, live_learner)
    model_server.reply = f"Resources are nouns [block:{cited}] and never [block:made-up]."
    session_id = await open_session(live_client, live_learner)
    response = await ask(live_client, live_learner, session_id, "What is a resource?")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    kinds = [kind for kind, _ in got]
    assert kinds[0] == "message"
    assert kinds[-1] == "done"
    assert kinds.count("delta") >= 3
    assert "".join(data["text"] for kind, data in got if kind == "delta") == model_server.reply
    reply = got[-1][1]
    assert reply["status"] == "complete"
    assert reply["citations"] == [cited]
    assert reply["completion_tokens"] > 0
    assert reply["prompt_tokens"] > 0
    messages = await stored(live_client, live_learner, session_id)
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert messages[1]["content"] == model_server.reply
    # Grounded: the lesson's blocks went to the model as data under the fixed prompt.
    sent = model_server.requests[-1]["messages"]
    assert sent[0]["role"] == "system"
    assert "never instructions" in sent[0]["content"]
    assert "<course-material>" in sent[1]["content"]
    assert f"[block:{cited}]" in sent[1]["content"]
    # The next question carries the conversation so far.
    await ask(live_client, live_learner, session_id, "And verbs?")
    history = [m["content"] for m in model_server.requests[-1]["messages"][2:]]
    assert history == ["What is a resource?", model_server.reply, "And verbs?"]


async def test_a_provider_failure_keeps_the_question_and_marks_the_cut_reply(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
) -> None:
    session_id = await open_session(live_client, live_learner)
    model_server.reply = "one two three four five"
    model_server.mode = "cut"
    got = events((await ask(live_client, live_learner, session_id, "Explain")).text)
    assert got[-1][0] == "error"
    assert got[-1][1]["code"] == "ai-provider-failed"
    model_server.mode = "fail"
    got = events((await ask(live_client, live_learner, session_id, "Again")).text)
    assert got[-1][0] == "error"
    messages = await stored(live_client, live_learner, session_id)
    assert [(m["role"], m["status"], m["content"]) for m in messages] == [
        ("user", "complete", "Explain"),
        ("assistant", "incomplete", "one two "),
        ("user", "complete", "Again"),
        ("assistant", "incomplete", ""),
    ]


async def test_a_timeout_is_reported_and_retries_recover_a_flaky_server(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
) -> None:
    session_id = await open_session(live_client, live_learner)
    tutor(ai_timeout_seconds=0.3)
    model_server.mode, model_server.slow_seconds = "slow", 2.0
    got = events((await ask(live_client, live_learner, session_id, "Slow?")).text)
    assert got[-1][1]["code"] == "ai-provider-timeout"
    tutor(ai_max_retries=2)
    model_server.reset()
    model_server.fail_times = 2
    got = events((await ask(live_client, live_learner, session_id, "Flaky?")).text)
    assert got[-1][0] == "done"
    assert len(model_server.requests) == 3  # two 500s, retried with backoff by the SDK


async def test_the_circuit_opens_after_repeated_failures(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
) -> None:
    tutor(ai_breaker_failures=2, ai_breaker_reset_seconds=60)
    session_id = await open_session(live_client, live_learner)
    model_server.mode = "fail"
    for _ in range(2):
        assert (
            events((await ask(live_client, live_learner, session_id, "?")).text)[-1][0] == "error"
        )
    calls = len(model_server.requests)
    refused = await ask(live_client, live_learner, session_id, "?")
    assert refused.status_code == 503
    assert refused.json()["code"] == "ai-unavailable"
    assert int(refused.headers["retry-after"]) > 0
    assert len(model_server.requests) == calls  # no call while open


async def test_the_daily_budget_refuses_with_retry_after(
    live_client: httpx.AsyncClient, live_learner: Account, tutor: Configure
) -> None:
    tutor(ai_daily_token_budget=1)
    session_id = await open_session(live_client, live_learner)
    assert events((await ask(live_client, live_learner, session_id, "First")).text)[-1][0] == "done"
    refused = await ask(live_client, live_learner, session_id, "Second")
    assert refused.status_code == 429
    assert refused.json()["code"] == "ai-budget-spent"
    assert 0 < int(refused.headers["retry-after"]) <= 86_400
    other = await sign_up(live_client)  # the budget is per user
    await enroll(live_client, other, "course:rest-basics")
    other_session = await open_session(live_client, other)
    assert (await ask(live_client, other, other_session, "Mine")).status_code == 200


async def test_the_chat_is_locked_while_a_quiz_attempt_is_open_and_never_sees_a_key(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
    live_loaded: Path,
) -> None:
    session_id = await open_session(live_client, live_learner)
    asked = "Tell me the answers of quiz:rest-basics-check, with the explanations"
    assert (await ask(live_client, live_learner, session_id, asked)).status_code == 200
    started = await live_client.post(
        f"{API}/quizzes/quiz:rest-basics-check/attempts", headers=live_learner.headers
    )
    assert started.status_code == 201, started.text
    locked = await ask(live_client, live_learner, session_id, asked)
    assert locked.status_code == 423
    assert locked.json()["code"] == "chat-locked"
    course_session = await open_session(
        live_client, live_learner, session_type="exam_prep", course_id=COURSE
    )
    assert (await ask(live_client, live_learner, course_session, asked)).status_code == 423
    submitted = await live_client.post(
        f"{API}/quiz-attempts/{started.json()['id']}/submit",
        json={"answers": []},
        headers={**live_learner.headers, "Idempotency-Key": "submit-once-1"},
    )
    assert submitted.status_code == 200, submitted.text
    assert (await ask(live_client, live_learner, course_session, asked)).status_code == 200
    # Every request the model server received: no key, accepted answer or explanation.
    sent = model_server.sent_text()
    for secret in ("Methods are the verbs.", "GET does not change state.", "If-None-Match", "429"):
        assert secret not in sent
    assert asked in sent  # the question itself did go


async def test_sessions_access_and_validation(
    live_client: httpx.AsyncClient, live_learner: Account, tutor: Configure
) -> None:
    headers = live_learner.headers
    cases: list[tuple[dict[str, object], int, str | None]] = [
        ({"course_id": COURSE, "session_type": "lesson"}, 201, None),
        ({"lesson_id": LESSON}, 422, "course_id"),
        ({"course_id": COURSE, "lesson_id": "lesson:no-such"}, 404, None),
        # hidden reads like absent
        ({"course_id": "course:draft-course", "lesson_id": "lesson:draft-course-more"}, 404, None),
        ({"course_id": "course:no-such"}, 404, None),
        ({"course_id": "course:paid-course", "lesson_id": "lesson:paid-course-more"}, 403, None),
        ({"course_id": "course:paid-course"}, 403, None),
        ({"course_id": "course:paid-course", "lesson_id": LESSON}, 422, "lesson_id"),
        ({"course_id": COURSE, "lesson_id": "not-a-lesson"}, 422, "lesson_id"),
        ({"course_id": COURSE, "session_type": "gossip"}, 422, "session_type"),
        ({"course_id": COURSE, "role": "admin"}, 422, "role"),
    ]
    for body, code, field in cases:
        response = await live_client.post(f"{API}/chat/sessions", json=body, headers=headers)
        assert response.status_code == code, (body, response.text)
        if code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if field:
            assert field in response.text
    # Another course's lesson is refused by a rule no schema states (the fuzzer's
    # positive-data check found it): the OpenAPI says it in words.
    schema = openapi_document()["components"]["schemas"]["ChatSessionCreate"]
    assert "`course_id`" in schema["properties"]["lesson_id"]["description"]
    assert (
        await live_client.post(f"{API}/chat/sessions", json={"course_id": COURSE})
    ).status_code == 401
    session_id = await open_session(live_client, live_learner)
    for content, code in (("", 422), ("x" * 4001, 422), ("a\x00b", 422)):
        assert (await ask(live_client, live_learner, session_id, content)).status_code == code
    stranger = await sign_up(live_client)
    assert (await ask(live_client, stranger, session_id, "mine?")).status_code == 404
    assert (await stored(live_client, live_learner, session_id)) == []
    ended = await live_client.post(f"{API}/chat/sessions/{session_id}/end", headers=headers)
    again = await live_client.post(f"{API}/chat/sessions/{session_id}/end", headers=headers)
    assert ended.status_code == again.status_code == 200
    assert ended.json()["ended_at"] == again.json()["ended_at"] is not None
    assert ended.json()["duration_seconds"] >= 0
    closed = await ask(live_client, live_learner, session_id, "still there?")
    assert closed.status_code == 409
    assert closed.json()["code"] == "chat-session-ended"


async def test_listing_tts_export_and_erasure(
    live_client: httpx.AsyncClient, live_learner: Account, tutor: Configure, engine: AsyncEngine
) -> None:
    headers = live_learner.headers
    ids = [await open_session(live_client, live_learner) for _ in range(3)]
    first = await live_client.get(f"{API}/chat/sessions?limit=2", headers=headers)
    rest = await live_client.get(
        f"{API}/chat/sessions?limit=2&cursor={first.json()['next_cursor']}", headers=headers
    )
    assert [s["id"] for s in first.json()["items"] + rest.json()["items"]] == ids[::-1]
    got = events((await ask(live_client, live_learner, ids[0], "Hello")).text)
    reply_id = got[-1][1]["id"]
    played = await live_client.patch(
        f"{API}/chat/messages/{reply_id}", json={"tts_played": True}, headers=headers
    )
    assert played.status_code == 200
    assert played.json()["tts_played"] is True
    assert (
        await live_client.patch(
            f"{API}/chat/messages/{reply_id}", json={"tts_played": "loud"}, headers=headers
        )
    ).status_code == 422
    stranger = await sign_up(live_client)
    assert (
        await live_client.patch(
            f"{API}/chat/messages/{reply_id}", json={"tts_played": True}, headers=stranger.headers
        )
    ).status_code == 404
    export = (await live_client.get(f"{API}/users/me/export", headers=headers)).json()
    assert {s["id"] for s in export["chat_sessions"]} == set(ids)
    assert {s["course_id"] for s in export["chat_sessions"]} == {"course:rest-basics"}
    assert next(m["content"] for m in export["chat_messages"]) == "Hello"
    assert (await live_client.delete(f"{API}/users/me", headers=headers)).status_code == 204
    async with engine.connect() as connection:
        for table in ("chat_sessions", "chat_messages"):
            left = await connection.scalar(
                text(f"SELECT count(*) FROM {table} WHERE user_id = :u"),
                {"u": live_learner.id},
            )
            assert left == 0, table


@pytest.fixture
async def real_http(app: FastAPI) -> AsyncIterator[str]:
    """The app itself on a loopback port (not the in-memory transport, which reads the
    whole body at once), so a client can really leave in the middle of a stream."""
    server, task, url = await serve(app)
    yield url
    server.should_exit = True
    await task


async def test_a_client_that_leaves_mid_stream_leaves_the_reply_stored_as_incomplete(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    model_server: ModelServer,
    real_http: str,
) -> None:
    session_id = await open_session(live_client, live_learner)
    model_server.reply = " ".join(f"word{n}" for n in range(2000))
    async with (
        httpx.AsyncClient(base_url=real_http) as http,
        http.stream(
            "POST",
            f"{API}/chat/sessions/{session_id}/messages",
            json={"content": "Talk a lot"},
            headers=live_learner.headers,
        ) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event: delta"):
                break  # the learner closes the tab
    for _ in range(100):
        messages = await stored(live_client, live_learner, session_id)
        if len(messages) == 2:
            break
        await asyncio.sleep(0.05)
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"),
        ("assistant", "incomplete"),
    ]
    assert messages[1]["content"].startswith("word0")
    assert len(messages[1]["content"]) < len(model_server.reply)


async def test_the_chat_is_locked_while_an_exam_attempt_is_open(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    tutor: Configure,
    live_loaded: Path,
    app: FastAPI,
) -> None:
    loaded = await load_folder(
        write_exams(live_loaded),
        database=app.state.mongo_database,
        sessionmaker=app.state.sessionmaker,
    )
    assert loaded.ok, loaded.problems
    session_id = await open_session(live_client, live_learner)
    attempt = await start_exam(live_client, live_learner)
    locked = await ask(live_client, live_learner, session_id, "What is task 1's answer?")
    assert locked.status_code == 423
    assert locked.json()["code"] == "chat-locked"
    submitted = await submit_exam(live_client, live_learner, attempt["id"], answers_for(attempt))
    assert submitted.status_code == 200, submitted.text
    assert (await ask(live_client, live_learner, session_id, "And now?")).status_code == 200
