"""Every list endpoint answers a keyset page of at most 100 items, says so in OpenAPI,
and refuses a larger ``limit`` with a 422 naming it. Every route that reads a body
documents its 400, 413 and 415."""

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.kit.pagination import encode_cursor
from tests.conftest import PUBLIC_BASE_URL
from tests.factories import create_category
from tests.identity.helpers import Account
from tests.probe import assert_problem

Operation = dict[str, Any]
MOST = 100  # the documented maximum page size


async def operations(
    client: httpx.AsyncClient,
) -> tuple[dict[str, Any], list[tuple[str, str, Operation]]]:
    spec: dict[str, Any] = (await client.get("/openapi.json")).json()
    return spec, [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def answer_schema(spec: dict[str, Any], operation: Operation) -> dict[str, Any]:
    content = operation["responses"].get("200", {}).get("content", {})
    schema: dict[str, Any] = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def list_paths(client: httpx.AsyncClient) -> list[str]:
    spec, found = await operations(client)
    pages = []
    for path, method, operation in found:
        schema = answer_schema(spec, operation)
        assert schema.get("type") != "array", f"{method.upper()} {path} answers a bare list"
        if method == "get" and set(schema.get("properties", {})) == {"items", "next_cursor"}:
            pages.append(path)
    return pages


SAMPLES = {"concept": "rest"}
"""A value for each required query parameter of a list (``GET /ai-notes?concept=``)."""


async def list_queries(
    client: httpx.AsyncClient, admin: Account
) -> list[tuple[str, str, dict[str, str]]]:
    """Every list as (its template, a URL of it that exists for ``admin``, the query its
    required parameters need): a list under a resource is asked of a real one (the
    content must be loaded: a chat session is opened on the free course)."""
    spec, _ = await operations(client)
    opened = await client.post(
        "/api/v1/chat/sessions", json={"course_id": "course:rest-basics"}, headers=admin.headers
    )
    assert opened.status_code == 201, opened.text
    resources = {"session_id": opened.json()["id"]}
    queries = []
    for path in await list_paths(client):
        parameters = spec["paths"][path]["get"].get("parameters", [])
        required = [p["name"] for p in parameters if p["in"] == "query" and p.get("required")]
        assert set(required) <= set(SAMPLES), f"add a sample value for {path}'s {required}"
        inside = [p["name"] for p in parameters if p["in"] == "path"]
        assert set(inside) <= set(resources), f"open a resource for {path}'s {inside}"
        queries.append(
            (
                path,
                path.format(**{name: resources[name] for name in inside}),
                {name: SAMPLES[name] for name in required},
            )
        )
    return queries


async def test_every_list_is_a_page_of_at_most_100(client: httpx.AsyncClient) -> None:
    spec, found = await operations(client)
    pages = await list_paths(client)
    assert set(pages) == {
        "/api/v1/admin/users",
        "/api/v1/categories",
        "/api/v1/tracks",
        "/api/v1/courses",
        "/api/v1/enrollments",
        "/api/v1/users/me/progress",
        "/api/v1/users/me/bookmarks",
        "/api/v1/users/me/notes",
        "/api/v1/quiz-attempts",
        "/api/v1/achievements",
        "/api/v1/users/me/achievements",
        "/api/v1/plans",
        "/api/v1/users/me/payments",
        "/api/v1/users/me/entitlements",
        "/api/v1/users/me/subscriptions",
        "/api/v1/admin/payments",
        "/api/v1/review/exam-tasks",
        "/api/v1/users/me/exam-attempts",
        "/api/v1/users/me/competencies",
        "/api/v1/users/me/feedback-tickets",
        "/api/v1/users/me/submissions",
        "/api/v1/review/submissions",
        "/api/v1/users/me/study-plans",
        "/api/v1/ai-notes",
        "/api/v1/chat/sessions",
        "/api/v1/chat/sessions/{session_id}/messages",
    }
    for path in pages:
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        limit = parameters["limit"]["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, MOST, 20)
        assert f"at most {MOST}" in parameters["limit"]["description"]
        assert "cursor" in parameters
    assert len(found) > len(pages)


async def test_a_larger_page_is_a_422_naming_limit(
    client: httpx.AsyncClient, admin: Account, loaded: Path
) -> None:
    for path, url, query in await list_queries(client, admin):
        too_many = await client.get(url, params={**query, "limit": MOST + 1}, headers=admin.headers)
        body = assert_problem(too_many, 422)
        assert [(e["in"], e["field"]) for e in body["errors"]] == [("query", "limit")], path
        most = await client.get(url, params={**query, "limit": MOST}, headers=admin.headers)
        assert most.status_code == 200, (path, most.text)


async def test_routes_that_read_a_body_document_its_refusals(client: httpx.AsyncClient) -> None:
    _, found = await operations(client)
    with_body = [(path, op) for path, _, op in found if "requestBody" in op]
    assert len(with_body) >= 10
    for path, operation in with_body:
        for status in ("400", "413", "415"):
            assert PROBLEM_MEDIA_TYPE in operation["responses"][status]["content"], (path, status)
    without_body = [op for _, method, op in found if method == "get"]
    assert all("413" not in op["responses"] for op in without_body)


def forged(key: list[object]) -> str:
    """A cursor as they were before they were signed: base64 of the JSON key."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


ID = "0190f6f6-0000-7000-8000-000000000000"
BAD_KEYS: list[list[object]] = [
    ["\u0000", ID],  # NUL: PostgreSQL cannot compare text holding it (was a 500)
    [1e308 * 10, ID],  # Infinity
    [],
]
BAD_MOMENTS: list[list[object]] = [
    ["0001-01-01T00:00:00+14:00", ID],  # before year 1 in UTC (was a 500)
    ["9999-12-31T23:59:59-14:00", ID],  # after year 9999 in UTC
    ["2026-01-01T00:00:00", ID],  # no time zone
    ["yesterday", ID],
]
DATED = {
    "/api/v1/users/me/progress",
    "/api/v1/users/me/achievements",
    "/api/v1/review/submissions",
}
"""The lists whose cursors start with a datetime."""


def bad_keys(path: str) -> list[list[object]]:
    return BAD_KEYS + (BAD_MOMENTS if path in DATED else [])


async def test_a_forged_cursor_is_a_422_naming_cursor_on_every_list(
    client: httpx.AsyncClient, admin: Account, loaded: Path
) -> None:
    for path, url, query in await list_queries(client, admin):
        good: list[object] = [ID]  # a key of the lists in id order, unsigned
        for key in [*bad_keys(path), good]:
            response = await client.get(
                url, params={**query, "cursor": forged(key)}, headers=admin.headers
            )
            body = assert_problem(response, 422)
            assert [(e["in"], e["field"]) for e in body["errors"]] == [("query", "cursor")], (
                path,
                key,
            )


async def test_bad_values_are_refused_even_in_a_validly_signed_cursor(
    client: httpx.AsyncClient, settings: Settings, admin: Account, loaded: Path
) -> None:
    """The signature is not the only check: a leaked key still cannot make a 500."""
    queries = await list_queries(client, admin)
    assert {path for path, _, _ in queries} >= DATED
    for path, url, query in queries:
        for key in [*bad_keys(path), [float("nan"), ID]]:
            cursor = encode_cursor(key, secret=settings.cursor_key, scope=url)
            response = await client.get(
                url, params={**query, "cursor": cursor}, headers=admin.headers
            )
            assert_problem(response, 422)


async def test_only_a_cursor_issued_for_this_list_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for _ in range(2):
        await create_category(session)
    first = await client.get("/api/v1/categories", params={"limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    following = await client.get("/api/v1/categories", params={"limit": 1, "cursor": cursor})
    assert following.status_code == 200, following.text
    assert following.json()["items"] != first.json()["items"]
    # the same key shape (name, id) on another list: refused
    elsewhere = await client.get("/api/v1/tracks", params={"cursor": cursor})
    assert_problem(elsewhere, 422)
    payload, tag = cursor.split(".")
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for tampered in (
        f"{forged([key[0] + 'a', key[1]])}.{tag}",  # another key, the old tag
        payload,  # no tag
        f"{payload}.{tag[:-2]}",  # a shorter tag
        f"{payload}.{tag[::-1]}",
    ):
        refused = await client.get("/api/v1/categories", params={"cursor": tampered})
        assert_problem(refused, 422)


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        {"Host": "learn.example.evil.example:8443"},
    ],
)
async def test_the_link_header_is_under_the_public_base_url_whatever_the_host(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    """The Host header is the client's to choose: it was written into Link (a link to
    evil.example). Links start with SYLLABUS_PUBLIC_BASE_URL, path and query as asked."""
    for _ in range(2):
        await create_category(session)
    response = await client.get("/api/v1/categories", params={"limit": 1}, headers=headers)
    cursor = response.json()["next_cursor"]
    assert response.headers["link"] == (
        f'<{PUBLIC_BASE_URL}/api/v1/categories?cursor={cursor}&limit=1>; rel="next"'
    )
    assert "evil" not in response.text
