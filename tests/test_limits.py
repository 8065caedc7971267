"""Bad bodies are refused with a 4xx problem naming the body, before they cost anything,
and the service goes on working with nothing lost: too large (413, also streamed or
with a lying Content-Length), nested too deep or not JSON (400), the wrong media type
(415). Through the real app and stores, at the default limits."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import RootModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.config import MIB, Settings
from syllabus.edge import nests_deeper
from syllabus.kit.schemas import InputSchema
from syllabus.learning.schemas import MAX_POSITION_BYTES
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress
from tests.probe import assert_problem

LIMIT = Settings.model_fields["max_body_bytes"].default
DEPTH = Settings.model_fields["max_json_depth"].default
INTRO = "lesson:rest-basics-intro"
PROGRESS = f"/api/v1/progress/lessons/{INTRO}"
CHUNK = 64 * 1024
JSON = {"Content-Type": "application/json"}


def test_defaults_are_one_mebibyte_and_32_levels() -> None:
    assert (LIMIT, DEPTH) == (MIB, 32)


@pytest.fixture
async def enrolled(client: httpx.AsyncClient, loaded: Path, learner: Account) -> Account:
    """Enrolled in the free course, with a note already kept on its first lesson."""
    await enroll(client, learner, "course:rest-basics")
    kept = await progress(client, learner, INTRO, status="started", note="kept")
    assert kept.status_code == 200, kept.text
    return learner


def body_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    body = assert_problem(response, status)
    assert body["errors"] == [
        {"field": "body", "in": "body", "message": body["errors"][0]["message"], "type": kind}
    ]
    return body


async def note_is_kept(client: httpx.AsyncClient, session: AsyncSession, account: Account) -> None:
    """The refused write changed nothing, and the next good one works."""
    note = await session.execute(
        text("SELECT note FROM lesson_progress WHERE user_id = :u"), {"u": account.id}
    )
    assert note.scalar_one() == "kept"
    again = await progress(client, account, INTRO, status="started", note="next")
    assert again.status_code == 200, again.text
    assert again.json()["note"] == "next"


class Chunks:
    """A request body streamed in 64 KiB chunks, counting how many were pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"status": "started", "note": "'
        while self.pulled * CHUNK < self.total:
            self.pulled += 1
            yield b"x" * CHUNK
        yield b'"}'


async def test_a_body_over_the_limit_is_a_413_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    note = "x" * LIMIT
    response = await progress(client, enrolled, INTRO, status="started", note=note)
    body = body_problem(response, 413, "too_large")
    assert body["max_bytes"] == LIMIT
    assert body["detail"] == f"the body is larger than {LIMIT} bytes"
    await note_is_kept(client, session, enrolled)


async def put_json(
    client: httpx.AsyncClient,
    account: Account,
    content: bytes | Chunks,
    *,
    length: int | None = None,
) -> httpx.Response:
    """PUT a progress body as given, with ``Content-Length: length`` whatever its size
    (none for a stream, the real one for bytes, unless ``length`` is given)."""
    headers = {**account.headers, "Content-Type": "application/json"}
    if length is not None:
        headers["Content-Length"] = str(length)
    return await client.put(PROGRESS, content=content, headers=headers)


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    chunks = Chunks(4 * LIMIT)
    response = await put_json(client, enrolled, chunks, length=4 * LIMIT)
    body_problem(response, 413, "too_large")
    assert chunks.pulled == 0
    await note_is_kept(client, session, enrolled)


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    chunks = Chunks(16 * LIMIT)
    response = await put_json(client, enrolled, chunks)
    body_problem(response, 413, "too_large")
    assert "content-length" not in response.request.headers
    assert chunks.pulled <= LIMIT // CHUNK + 1  # read up to the limit, not all 16 MiB
    await note_is_kept(client, session, enrolled)


async def test_a_lying_content_length_does_not_get_a_large_body_in(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    content = json.dumps({"status": "started", "note": "x" * (2 * LIMIT)}).encode()
    response = await put_json(client, enrolled, content, length=64)
    assert response.request.headers["content-length"] == "64"
    body_problem(response, 413, "too_large")
    await note_is_kept(client, session, enrolled)


async def test_a_large_form_is_refused_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "a@example.org", "password": "x" * LIMIT}
    )
    body_problem(response, 413, "too_large")


def nested(depth: int) -> dict[str, object]:
    """A position that makes the whole progress body ``depth`` levels deep."""
    position: dict[str, object] = {"block": 1}
    for _ in range(depth - 2):
        position = {"p": position}
    return {"status": "started", "position": position}


async def test_json_deeper_than_the_limit_is_a_400_naming_the_depth(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    at_limit = await client.put(PROGRESS, json=nested(DEPTH), headers=enrolled.headers)
    assert at_limit.status_code == 200, at_limit.text
    response = await client.put(PROGRESS, json=nested(DEPTH + 1), headers=enrolled.headers)
    body = body_problem(response, 400, "json_too_deep")
    assert body["max_depth"] == DEPTH
    assert body["detail"] == f"the body is nested deeper than {DEPTH} levels of arrays and objects"
    assert (await client.get("/health/live")).status_code == 200


async def test_brackets_in_strings_do_not_count(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    note = '[{"\\' * 100
    response = await progress(client, enrolled, INTRO, status="started", note=note)
    assert response.status_code == 200, response.text
    assert response.json()["note"] == note


@pytest.mark.parametrize(
    "content",
    [b"[" * 200_000, b'{"a":' * 100_000, b"[" * 40 + b"]" * 40],
    ids=["unclosed arrays", "unclosed objects", "closed"],
)
async def test_deep_bodies_never_reach_the_parser(
    client: httpx.AsyncClient, enrolled: Account, content: bytes
) -> None:
    response = await put_json(client, enrolled, content)
    body_problem(response, 400, "json_too_deep")


@pytest.mark.parametrize(
    ("body", "limit", "deeper"),
    [
        (b"[]", 1, False),
        (b"[[]]", 1, True),
        (b'{"a": [1, {"b": 2}]}', 3, False),
        (b'{"a": [1, {"b": 2}]}', 2, True),
        (b'["[[[[", "{{{{"]', 1, False),  # brackets inside strings
        (b'["\\"[[[[["]', 1, False),  # an escaped quote does not end the string
        (b'["\\\\", [[]]]', 2, True),  # an escaped backslash does not escape the quote
        (b'"\\u005b[[["', 1, False),  # a string alone
        (b"[" * 33, 32, True),  # unclosed: the open run alone is too deep
        (b"[" * 3 + b"}", 32, False),  # malformed but shallow: left to the parser
        (b"[" * 32 + b"]" * 32, 32, False),
        (b"[" * 33 + b"]" * 33, 32, True),
    ],
)
def test_nesting_is_measured_outside_strings(body: bytes, limit: int, deeper: bool) -> None:
    assert nests_deeper(body, limit=limit) is deeper


async def test_malformed_json_is_a_400_naming_the_body(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    response = await put_json(client, enrolled, b'{"status": "started",')
    body = body_problem(response, 400, "json_invalid")
    assert body["detail"] == (
        "the body is not valid JSON: Expecting property name enclosed in double quotes "
        "(at character 21)"
    )


async def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    response = await put_json(client, enrolled, b'{"status": "started", "note": "\xff"}')
    body = body_problem(response, 400, "json_invalid")
    assert body["detail"] == "the body is not valid UTF-8: byte 0xff at position 31"
    await note_is_kept(client, session, enrolled)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_a_json_route_refuses_other_media_types_with_415(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account, content_type: str | None
) -> None:
    headers = {**enrolled.headers, **({"Content-Type": content_type} if content_type else {})}
    response = await client.put(PROGRESS, content=b'{"status": "completed"}', headers=headers)
    body = body_problem(response, 415, "media_type")
    assert response.headers["accept"] == "application/json"
    sent = f"but {content_type}" if content_type else "(no Content-Type header)"
    assert body["detail"] == f"the body is not application/json {sent}"
    await note_is_kept(client, session, enrolled)


async def test_json_types_with_parameters_or_suffix_are_json(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.put(
            PROGRESS,
            content=b'{"status": "started", "note": "ok"}',
            headers={**enrolled.headers, "Content-Type": content_type},
        )
        assert response.status_code == 200, (content_type, response.text)


async def test_the_form_route_refuses_json_with_415_and_takes_its_form(
    client: httpx.AsyncClient, learner: Account
) -> None:
    sent = {"username": learner.email, "password": learner.password}
    response = await client.post("/api/v1/auth/token", json=sent)
    body = body_problem(response, 415, "media_type")
    assert body["detail"] == (
        "the body is not application/x-www-form-urlencoded or multipart/form-data "
        "but application/json"
    )
    assert response.headers["accept"] == "application/x-www-form-urlencoded, multipart/form-data"
    signed_in = await client.post("/api/v1/auth/token", data=sent)
    assert signed_in.status_code == 200, signed_in.text


async def test_an_empty_json_body_is_a_422_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b"", headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"field": "body", "in": "body", "message": "Field required", "type": "missing"}
    ]
    await sign_up(client)


async def test_a_position_is_small(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    big = {"text": "я" * (MAX_POSITION_BYTES // 2)}  # 2 bytes each in UTF-8
    response = await progress(client, enrolled, INTRO, status="started", position=big)
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["position"]
    fits = {"text": "я" * (MAX_POSITION_BYTES // 2 - 6)}
    kept = await progress(client, enrolled, INTRO, status="started", position=fits)
    assert kept.status_code == 200, kept.text


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_a_number_that_is_not_finite_is_a_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account, number: str
) -> None:
    """Python's JSON parser reads these (1e999 as infinity); jsonb refuses them, which was
    a 500. Refused wherever they are in any body, and nothing is written."""
    raw = f'{{"status": "completed", "note": "lost", "position": {{"at": [1, {number}]}}}}'
    response = await client.put(
        PROGRESS, content=raw.encode(), headers={**enrolled.headers, **JSON}
    )
    body = assert_problem(response, 422)
    assert [(e["field"], e["type"]) for e in body["errors"]] == [("position", "finite_number")]
    await note_is_kept(client, session, enrolled)


async def test_a_non_finite_answer_is_a_422_naming_it(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    started = await client.post(
        "/api/v1/quizzes/quiz:rest-basics-check/attempts", headers=enrolled.headers
    )
    assert started.status_code == 201, started.text
    raw = b'{"answers": [{"question_id": "question:rest-basics-nouns", "answer": NaN}]}'
    response = await client.put(
        f"/api/v1/quiz-attempts/{started.json()['id']}/answers",
        content=raw,
        headers={**enrolled.headers, **JSON},
    )
    body = assert_problem(response, 422)
    assert [(e["field"], e["type"]) for e in body["errors"]] == [
        ("answers[0].answer", "finite_number")
    ]


def test_every_json_body_is_an_input_schema(app: FastAPI) -> None:
    """The NUL and non-finite refusals live in InputSchema once: every route that reads
    a JSON body must declare one of those (or a list of them)."""
    bodies = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None:
            model = route.body_field.field_info.annotation
            bodies.append(route.path)
            if isinstance(route.body_field.field_info, params.Form):
                continue  # the OAuth2 form of /auth/token: strings only
            assert isinstance(model, type), route.path
            if issubclass(model, RootModel):  # one of several bodies, by a discriminator
                choices = get_args(model.model_fields["root"].annotation)
                assert choices, f"{route.path}: {model}"
                assert all(issubclass(c, InputSchema) for c in choices), f"{route.path}: {choices}"
                continue
            assert issubclass(model, InputSchema), f"{route.path}: {model}"
    assert len(bodies) >= 10
