"""Every error leaves as RFC 9457 problem+json, including framework and unexpected ones."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE, Conflict, NotFound
from syllabus.main import create_app


class Widget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    size: int = Field(ge=1)
    tags: list[str] = Field(default_factory=list, max_length=3)


probe = APIRouter(prefix="/api/v1/_probe")


@probe.post("/widgets")
async def create_widget(widget: Widget, limit: int = 10) -> Widget:
    return widget


@probe.get("/missing")
async def missing() -> None:
    raise NotFound("widget:42 does not exist", resource="widget")


@probe.get("/conflict")
async def conflict() -> None:
    raise Conflict("already enrolled", existing_id="abc")


@probe.get("/crash")
async def crash() -> None:
    raise RuntimeError("password=hunter2 leaked in an exception message")


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app factory (error handlers and all) plus routes that fail on purpose."""
    app: FastAPI = create_app(settings)
    app.include_router(probe)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert body["title"]
    return body


async def test_validation_error_lists_every_failing_field(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post(
        "/api/v1/_probe/widgets?limit=many",
        json={"name": "", "size": 0, "tags": ["a", 1], "colour": "red"},
    )
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    fields = {(error["in"], error["field"]) for error in errors}
    assert fields == {
        ("query", "limit"),
        ("body", "name"),
        ("body", "size"),
        ("body", "tags[1]"),
        ("body", "colour"),
    }
    assert all(error["message"] and error["type"] for error in errors)
    assert body["detail"] == "Invalid value for: colour, limit, name, size, tags[1]"
    assert body["instance"] == "/api/v1/_probe/widgets"


async def test_malformed_json_is_a_422_problem(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/v1/_probe/widgets",
        content=b'{"name": "x",',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"]


async def test_domain_error_carries_status_detail_and_extensions(
    probe_client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await probe_client.get("/api/v1/_probe/missing"), 404)
    assert body["detail"] == "widget:42 does not exist"
    assert body["resource"] == "widget"
    body = assert_problem(await probe_client.get("/api/v1/_probe/conflict"), 409)
    assert body["existing_id"] == "abc"


async def test_unknown_route_and_wrong_method_are_problems(
    probe_client: httpx.AsyncClient,
) -> None:
    assert_problem(await probe_client.get("/api/v1/nothing-here"), 404)
    response = await probe_client.delete("/api/v1/_probe/widgets")
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"


async def test_unexpected_error_is_a_bare_500_without_internals(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get("/api/v1/_probe/crash")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert body["title"] == "Internal Server Error"


async def test_openapi_and_docs_are_served(probe_client: httpx.AsyncClient) -> None:
    spec = (await probe_client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Syllabus"
    ready = spec["paths"]["/health/ready"]["get"]["responses"]
    assert PROBLEM_MEDIA_TYPE in ready["503"]["content"]
    docs = await probe_client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
