"""Liveness always answers; readiness names the store that stopped answering.

The failing-store cases stop a real server process mid-test, not a mock.
"""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from syllabus.config import Settings
from syllabus.embedded import EmbeddedMongo, EmbeddedPostgres
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.main import create_app


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_both_stores_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"postgresql": "ok", "mongodb": "ok"},
    }


async def test_ready_is_503_naming_mongodb_after_its_server_is_stopped(
    settings: Settings,
) -> None:
    mongo = EmbeddedMongo(storage=None)
    url = mongo.start()
    try:
        isolated = settings.model_copy(update={"mongo_url": url, "health_timeout_seconds": 1.0})
        async with running_app(isolated) as http:
            assert (await http.get("/health/ready")).status_code == 200
            mongo.stop()
            response = await http.get("/health/ready")
            assert (await http.get("/health/live")).status_code == 200
    finally:
        mongo.stop()
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["failing"] == ["mongodb"]
    assert body["checks"] == {"postgresql": "ok", "mongodb": "unavailable"}
    assert body["detail"] == "not answering: mongodb"


async def test_ready_is_503_naming_postgresql_after_its_server_is_stopped(
    settings: Settings,
) -> None:
    # A short folder: PostgreSQL's unix socket path is limited to ~107 bytes.
    with tempfile.TemporaryDirectory(prefix="syl-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "pg", after_use="delete")
        urls = postgres.start()
        try:
            isolated = settings.model_copy(
                update={"postgres_url": urls.app, "health_timeout_seconds": 1.0}
            )
            async with running_app(isolated) as http:
                assert (await http.get("/health/ready")).status_code == 200
                postgres.stop()
                response = await http.get("/health/ready")
        finally:
            postgres.stop()
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["failing"] == ["postgresql"]
    assert body["checks"] == {"postgresql": "unavailable", "mongodb": "ok"}
