"""What the fuzzer found, kept as plain regression tests (the exact inputs it reported),
so they stay fixed whatever the fuzzer happens to generate next time."""

from pathlib import Path

import httpx
import jsonschema_rs
import pytest

from tests.identity.helpers import PASSWORD, Account, unique_email
from tests.learning.helpers import enroll, progress
from tests.openapi import openapi_document
from tests.probe import assert_problem


def _fields(body: dict[str, object]) -> list[tuple[object, object]]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [(error["field"], error["type"]) for error in errors]


async def test_a_nul_character_in_a_sign_up_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    # Was a 500: PostgreSQL refused the text ("invalid byte sequence for encoding UTF8: 0x00").
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": PASSWORD, "name": "\u0000\u0095H"},
    )
    assert _fields(assert_problem(response, 422)) == [("name", "nul_character")]


async def test_a_nul_character_deep_in_an_answer_is_a_422_naming_it(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, "course:rest-basics")
    started = await client.post(
        "/api/v1/quizzes/quiz:rest-basics-check/attempts", headers=learner.headers
    )
    assert started.status_code == 201, started.text
    response = await client.put(
        f"/api/v1/quiz-attempts/{started.json()['id']}/answers",
        json={
            "answers": [{"question_id": "question:rest-basics-nouns", "answer": {"k\u0000": []}}]
        },
        headers=learner.headers,
    )
    assert _fields(assert_problem(response, 422)) == [("answers[0].answer", "nul_character")]


async def test_a_nul_character_in_a_note_leaves_the_progress_as_it_was(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, "course:rest-basics")
    lesson = "lesson:rest-basics-intro"
    assert (await progress(client, learner, lesson, status="started", note="kept")).is_success
    refused = await progress(client, learner, lesson, status="completed", note="a\u0000b")
    assert _fields(assert_problem(refused, 422)) == [("note", "nul_character")]
    notes = await client.get("/api/v1/users/me/notes", headers=learner.headers)
    assert [item["note"] for item in notes.json()["items"]] == ["kept"]


@pytest.mark.parametrize(
    ("url", "part"),
    [
        # The reported case: a cursor holding %00 (was a 500 from PostgreSQL's comparison).
        ("/api/v1/courses?cursor=%14%1AU%F1%8C%A0%9F%C3%A2%00%F3%BE", "query"),
        ("/api/v1/courses?q=rest%00", "query"),
        ("/api/v1/courses/rest%00basics", "path"),
    ],
)
async def test_a_nul_character_in_the_url_is_a_400_naming_the_part(
    client: httpx.AsyncClient, url: str, part: str
) -> None:
    body = assert_problem(await client.get(url), 400)
    assert _fields(body) == [(part, "nul_character")]


async def test_a_blank_name_is_refused_as_the_openapi_says(client: httpx.AsyncClient) -> None:
    """The fuzzer sent name "\\n": schema-valid (minLength 1), refused after stripping.
    The OpenAPI now states the rule as a pattern, and the refusal names the field."""
    schema = openapi_document()["components"]["schemas"]["UserRegister"]
    assert not jsonschema_rs.validator_for(schema["properties"]["name"]).is_valid("\n")
    response = await client.post(
        "/api/v1/auth/register", json={"email": unique_email(), "password": PASSWORD, "name": "\n"}
    )
    assert [field for field, _ in _fields(assert_problem(response, 422))] == ["name"]


@pytest.mark.parametrize("name", ["\x85", "\ufeff", "\x1c", "\u3000 "])
async def test_a_name_is_refused_exactly_when_the_openapi_says(
    client: httpx.AsyncClient, name: str
) -> None:
    """``\\S`` read as ECMA-262 (the OpenAPI's dialect) took "\\x85", which the server
    strips as white space and refused; and it refused "\\ufeff", which the server keeps."""
    schema = openapi_document()["components"]["schemas"]["UserRegister"]["properties"]["name"]
    response = await client.post(
        "/api/v1/auth/register", json={"email": unique_email(), "password": PASSWORD, "name": name}
    )
    if jsonschema_rs.validator_for(schema).is_valid(name):
        assert response.status_code == 201, response.text
    else:
        assert [field for field, _ in _fields(assert_problem(response, 422))] == ["name"]


def test_every_operation_with_parameters_documents_the_400_for_a_nul_in_the_url() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_every_documented_error_is_problem_json() -> None:
    """The fuzzer checks the answers it meets against the document; this checks that the
    document promises problem+json, and only that, for every error of every operation."""
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    media = list(response.get("content", {}))
                    assert media == ["application/problem+json"], (method, path, status)
