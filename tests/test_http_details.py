"""HTTP details clients trip over ([1/8] item 30): ``HEAD`` on every GET route answers
like GET without a body, a 204 carries no Content-Type, and enrolling takes a slug like
every other course route."""

import re
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.identity.helpers import Account
from tests.learning.helpers import enroll
from tests.probe import assert_problem

SAMPLES = {
    "course_ref": "rest-basics",
    "lesson_id": "lesson:rest-basics-intro",
    "quiz_id": "quiz:rest-basics-check",
}
"""A value for each path parameter; any other (ids) gets a random UUID, a 404."""
VOLATILE = {"date", "x-request-id", "server-timing"}


def get_paths(app: FastAPI) -> list[str]:
    """Every GET route of the OpenAPI document, its parameters filled in."""
    return [
        re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), str(uuid.uuid4())), path)
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations
    ]


async def test_head_answers_every_get_route_like_get_without_a_body(
    client: httpx.AsyncClient, app: FastAPI, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, "course:rest-basics")
    paths = get_paths(app)
    assert len(paths) > 15
    for path in [*paths, "/docs", "/openapi.json"]:
        for headers in ({}, learner.headers):
            got = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            assert head.status_code == got.status_code != 405, (path, head.status_code)
            assert head.content == b"", path
            same = {k: v for k, v in got.headers.items() if k not in VOLATILE}
            assert {k: v for k, v in head.headers.items() if k not in VOLATILE} == same, path


async def test_head_on_a_conditional_get_is_a_304_and_elsewhere_a_405(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    outline = await client.get("/api/v1/courses/rest-basics/outline")
    etag = outline.headers["etag"]
    head = await client.head("/api/v1/courses/rest-basics/outline", headers={"if-none-match": etag})
    assert head.status_code == 304
    # A path with no GET route refuses HEAD as it refuses GET.
    refused = await client.head("/api/v1/enrollments/" + str(uuid.uuid4()) + "/cancel")
    assert refused.status_code == 405
    assert "GET" not in refused.headers["allow"]


async def test_no_content_has_no_content_type(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    logout = await client.post("/api/v1/auth/logout-all", headers=learner.headers)
    assert logout.status_code == 204
    assert "content-type" not in logout.headers
    assert logout.content == b""
    outline = await client.get("/api/v1/courses/rest-basics/outline")
    cached = await client.get(
        "/api/v1/courses/rest-basics/outline", headers={"if-none-match": outline.headers["etag"]}
    )
    assert cached.status_code == 304
    assert "content-type" not in cached.headers


async def test_enrolling_takes_a_slug_or_an_id(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    by_slug = await client.post(
        "/api/v1/enrollments", json={"course_id": "rest-basics"}, headers=learner.headers
    )
    assert by_slug.status_code == 201, by_slug.text
    assert by_slug.json()["course"]["id"] == "course:rest-basics"
    again = await client.post(
        "/api/v1/enrollments", json={"course_id": "course:rest-basics"}, headers=learner.headers
    )
    assert_problem(again, 409)  # the same course, by its id
    for bad in ("Not A Slug", "course:", "lesson:rest-basics-intro", "x" * 201):
        refused = await client.post(
            "/api/v1/enrollments", json={"course_id": bad}, headers=learner.headers
        )
        body = assert_problem(refused, 422)
        assert [error["field"] for error in body["errors"]] == ["course_id"], bad
    unknown = await client.post(
        "/api/v1/enrollments", json={"course_id": "no-such-course"}, headers=learner.headers
    )
    assert_problem(unknown, 404)
