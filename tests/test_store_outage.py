"""A store that does not answer is a 503 with Retry-After on every API route, documented
in OpenAPI; never a 500. A pooled connection that died (a restart) is replaced without
failing the request that found it. (tests/crash/ restarts a real PostgreSQL under load.)"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from syllabus.config import Settings, to_libpq_url
from syllabus.deps import SessionDep
from syllabus.embedded import free_port
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.main import create_app
from tests.test_health import running_app


async def test_an_unreachable_postgresql_is_a_503_with_retry_after(settings: Settings) -> None:
    nowhere = f"postgresql://syllabus@127.0.0.1:{free_port()}/syllabus"  # nothing listens
    async with running_app(settings.model_copy(update={"postgres_url": nowhere})) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": "ada@example.org", "password": "x" * 12}
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["detail"] == "a data store is not answering; retry later"  # no exception text
    assert "127.0.0.1" not in response.text


async def test_openapi_documents_503_and_the_idempotency_key(
    probe_client: httpx.AsyncClient,
) -> None:
    spec = (await probe_client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/v1"):
                outage = operation["responses"]["503"]
                assert PROBLEM_MEDIA_TYPE in outage["content"], f"{method} {path}"
    assert "503" not in spec["paths"]["/health/live"]["get"]["responses"]
    for path, method in (
        ("/api/v1/progress/lessons/{lesson_id}", "put"),
        ("/api/v1/quizzes/{quiz_id}/attempts", "post"),
    ):
        operation = spec["paths"][path][method]
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (header["in"], header.get("required", False)) == ("header", False)
        assert "422" in operation["responses"]
        assert operation["responses"]["200" if method == "put" else "201"]["content"]


class Runs:
    """How many times the probe routes' units of work ran."""

    count = 0


recovery_probe = APIRouter(prefix="/api/v1/_probe")


@recovery_probe.get("/backend")
async def backend(session: SessionDep) -> int:
    """The PostgreSQL backend serving this request's session."""
    Runs.count += 1
    pid: int = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


@recovery_probe.post("/dies-midway")
async def dies_midway(session: SessionDep) -> None:
    """One statement succeeds, then the connection dies under the next one."""
    Runs.count += 1
    await session.execute(text("SELECT 1"))
    await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))


@asynccontextmanager
async def one_connection_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with the probe routes and a pool of one connection, so the next
    request gets the connection the last one used."""
    app = create_app(settings.model_copy(update={"pg_pool_size": 1}))
    app.include_router(recovery_probe)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_a_pooled_connection_found_dead_is_replaced_and_the_request_answered(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """DECISIONS 10: the unit of work met the dead connection before any statement
    succeeded, so it runs again, once, on a fresh connection; the client sees a 200."""
    assert settings.postgres_url is not None
    async with one_connection_app(settings) as http:
        first = await http.get("/api/v1/_probe/backend")
        assert first.status_code == 200, first.text
        killer = await asyncpg.connect(to_libpq_url(settings.postgres_url))
        try:  # what a server restart does to every pooled connection
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", first.json())
        finally:
            await killer.close()
        Runs.count = 0
        with caplog.at_level(logging.INFO, logger="syllabus"):
            second = await http.get("/api/v1/_probe/backend")
    assert second.status_code == 200, second.text
    assert second.json() != first.json()  # a new backend
    assert Runs.count == 2  # ran, met the dead connection, ran again
    assert "was dead (a server restart?): running GET /api/v1/_probe/backend" in caplog.text
    assert "store unavailable" not in caplog.text


async def test_a_connection_lost_after_a_statement_succeeded_is_a_503_not_retried(
    settings: Settings,
) -> None:
    """Past the first statement the work may have been partly done: no second run, the
    client retries with its Idempotency-Key."""
    async with one_connection_app(settings) as http:
        Runs.count = 0
        response = await http.post("/api/v1/_probe/dies-midway")
        assert response.status_code == 503, response.text
        assert Runs.count == 1
        after = await http.get("/api/v1/_probe/backend")
        assert after.status_code == 200, after.text
