"""Every list endpoint answers a keyset page of at most 100 items, says so in OpenAPI,
and refuses a larger ``limit`` with a 422 naming it. Every route that reads a body
documents its 400, 413 and 415."""

from typing import Any

import httpx

from syllabus.errors import PROBLEM_MEDIA_TYPE
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
    }
    for path in pages:
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        limit = parameters["limit"]["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, MOST, 20)
        assert f"at most {MOST}" in parameters["limit"]["description"]
        assert "cursor" in parameters
    assert len(found) > len(pages)


async def test_a_larger_page_is_a_422_naming_limit(
    client: httpx.AsyncClient, admin: Account
) -> None:
    for path in await list_paths(client):
        too_many = await client.get(path, params={"limit": MOST + 1}, headers=admin.headers)
        body = assert_problem(too_many, 422)
        assert [(e["in"], e["field"]) for e in body["errors"]] == [("query", "limit")], path
        most = await client.get(path, params={"limit": MOST}, headers=admin.headers)
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
