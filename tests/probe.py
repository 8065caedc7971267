"""The real app plus routes that fail on purpose (added only in tests), and what every
problem answer must look like."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from syllabus.assessment.service import AttemptOpen
from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX, PROBLEM_TYPES, NotFound
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
    raise AttemptOpen("an attempt is already open", attempt_id="abc")


@probe.get("/crash")
async def crash() -> None:
    raise RuntimeError("password=hunter2 leaked in an exception message")


@asynccontextmanager
async def probed(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app factory (error handlers, middleware and all) plus routes that fail on
    purpose, added only here."""
    app: FastAPI = create_app(settings)
    app.include_router(probe)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """A problem+json answer with this status (and ``code``, when given): a declared
    code, its URN as ``type`` and its fixed title."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    assert body["type"] == f"{PROBLEM_TYPE_PREFIX}{body['code']}"
    assert body["title"] == PROBLEM_TYPES[body["code"]].title or body["code"] == "http-error"
    return body
