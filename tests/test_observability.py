"""Request ids in and out, JSON log lines that carry them, and the Prometheus metrics:
per-route templates, error counts, the pool read at scrape time."""

import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from syllabus.config import Settings
from syllabus.main import create_app
from syllabus.observability.logs import configure_logging
from syllabus.observability.requests import MAX_REQUEST_ID_LENGTH, UNMATCHED
from tests.probe import assert_problem, probe, probed

GENERATED = re.compile(r"[0-9a-f]{32}")
COURSE_ROUTE = "/api/v1/courses/{course_ref}"
CRASH = "/api/v1/_probe/crash"
MISSING = "/api/v1/_probe/missing"


# Request ids


async def test_a_request_id_is_made_when_none_is_sent(probe_client: httpx.AsyncClient) -> None:
    first = await probe_client.get("/health/live")
    second = await probe_client.get("/health/live")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(GENERATED.fullmatch(request_id) for request_id in ids), ids
    assert ids[0] != ids[1]


@pytest.mark.parametrize(
    "sent",
    ["abc", "7f3c9a2e-5b1d-4c8e-9f00-123456789abc", "edge.lb:42_x-y", "a" * MAX_REQUEST_ID_LENGTH],
)
async def test_a_sane_request_id_is_kept(probe_client: httpx.AsyncClient, sent: str) -> None:
    response = await probe_client.get("/health/live", headers={"X-Request-ID": sent})
    assert response.headers.get_list("x-request-id") == [sent]


@pytest.mark.parametrize(
    "sent",
    [
        b"a" * (MAX_REQUEST_ID_LENGTH + 1),
        b"two words",
        b"id;drop",
        b'{"json":1}',
        b"caf\xc3\xa9",
        b"",
    ],
)
async def test_any_other_request_id_is_replaced(
    probe_client: httpx.AsyncClient, sent: bytes
) -> None:
    response = await probe_client.get("/health/live", headers=[(b"X-Request-ID", sent)])
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_every_kind_of_answer_carries_the_request_id(
    probe_client: httpx.AsyncClient,
) -> None:
    answers = {
        MISSING: 404,
        "/api/v1/no-such-route": 404,
        CRASH: 500,
    }
    for path, status in answers.items():
        response = await probe_client.get(path, headers={"X-Request-ID": f"id-{status}"})
        assert_problem(response, status)
        assert response.headers["x-request-id"] == f"id-{status}", path
    refused = await probe_client.post(
        "/api/v1/_probe/widgets",
        content=b"[" * 100,
        headers={"Content-Type": "application/json", "X-Request-ID": "deep"},
    )
    assert_problem(refused, 400)
    assert refused.headers["x-request-id"] == "deep"


async def test_a_500_is_answered_and_not_raised_again_to_the_server(settings: Settings) -> None:
    """ServerErrorMiddleware re-raises after answering, and the server would log the
    traceback a second time, without the request id: the outer layer stops it."""
    app = create_app(settings)
    app.include_router(probe)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get(CRASH)
    assert_problem(response, 500)


# Logs


@pytest.fixture
def log_lines(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The service's own logging configuration, as `syllabus serve` applies it, writing
    to a buffer instead of stderr; the process's logging is put back afterwards."""
    root = logging.getLogger()
    saved = [
        (logger, logger.level, logger.handlers[:], logger.propagate)
        for logger in (
            root,
            logging.getLogger("uvicorn"),
            logging.getLogger("uvicorn.error"),
            logging.getLogger("uvicorn.access"),
        )
    ]
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(settings.model_copy(update={"env": "prod"}))
    try:
        yield buffer
    finally:
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_log_lines_are_json_and_carry_their_request_id(
    probe_client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    # Concurrent, so a request id that leaked from one request into another would show.
    await asyncio.gather(
        *(
            probe_client.get(path, headers={"X-Request-ID": f"req-{n}"})
            for n, path in enumerate([CRASH, MISSING, CRASH, MISSING])
        )
    )
    logged = records(log_lines)
    errors = [r for r in logged if r["logger"] == "syllabus.errors"]
    assert sorted(r["request_id"] for r in errors) == ["req-0", "req-2"]
    for error in errors:
        assert error["level"] == "ERROR"
        assert error["message"] == f"unhandled error on GET {CRASH}"
        assert error["exc_info"].startswith("Traceback (most recent call last):")
        assert error["exc_info"].rstrip().endswith("leaked in an exception message")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", error["ts"])
    access = {r["request_id"]: r for r in logged if r["logger"] == "syllabus.access"}
    assert sorted(access) == ["req-0", "req-1", "req-2", "req-3"]
    for n, path, status in [(0, CRASH, 500), (1, MISSING, 404)]:
        record = access[f"req-{n}"]
        assert record["message"].startswith(f"GET {path} {status} ")
        assert (record["method"], record["route"], record["status"]) == ("GET", path, status)
        assert record["client"] == "127.0.0.1"
        assert 0 < record["duration_ms"] < 60_000
    # Exactly one access line per request, and one traceback per failure.
    assert len([r for r in logged if r["logger"] == "syllabus.access"]) == 4
    assert len(errors) == 2


async def test_the_access_log_names_the_route_template(
    live_client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    await live_client.get("/api/v1/courses/course:nowhere", headers={"X-Request-ID": "tpl"})
    (record,) = [r for r in records(log_lines) if r.get("request_id") == "tpl"]
    assert record["path"] == "/api/v1/courses/course:nowhere"
    assert record["route"] == COURSE_ROUTE
    assert record["status"] == 404


async def test_the_access_log_keeps_the_path_as_sent(
    live_client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    """Decoded, ``%0A`` would put a line break into a text log line (a forged line)."""
    await live_client.get("/api/v1/courses/a%0Afake%20line%00", headers={"X-Request-ID": "raw"})
    (record,) = [r for r in records(log_lines) if r.get("request_id") == "raw"]
    assert record["path"] == "/api/v1/courses/a%0Afake%20line%00"
    assert record["message"].startswith("GET /api/v1/courses/a%0Afake%20line%00 400 ")


async def test_probe_successes_are_logged_at_debug_only(
    probe_client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    await probe_client.get("/health/live", headers={"X-Request-ID": "probe"})
    await probe_client.get("/metrics", headers={"X-Request-ID": "scrape"})
    await probe_client.get(MISSING, headers={"X-Request-ID": "loud"})
    access = [r for r in records(log_lines) if r["logger"] == "syllabus.access"]
    assert [r["request_id"] for r in access] == ["loud"]


def test_text_logs_in_dev_json_elsewhere_unless_set(settings: Settings) -> None:
    dev = settings.model_copy(update={"env": "dev"})
    assert dev.effective_log_format == "text"
    assert settings.effective_log_format == "json"
    assert dev.model_copy(update={"log_format": "json"}).effective_log_format == "json"
    assert settings.model_copy(update={"log_format": "text"}).effective_log_format == "text"


# Metrics


def sample(exposition: str, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(exposition):
        for item in family.samples:
            if item.name == name and item.labels == labels:
                return float(item.value)
    return 0.0


async def scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_are_counted_and_timed_by_route_template(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    before = await scrape(client)
    for ref in ["course:rest-basics", "course:rest-basics", "course:rest-basics", "course:no"]:
        await client.get(f"/api/v1/courses/{ref}")
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("http_request_duration_seconds_count", method="GET", route=COURSE_ROUTE) == 4
    assert (
        grew("http_request_duration_seconds_bucket", method="GET", route=COURSE_ROUTE, le="+Inf")
        == 4
    )
    assert grew("http_request_duration_seconds_sum", method="GET", route=COURSE_ROUTE) > 0
    ok = {"method": "GET", "route": COURSE_ROUTE}
    assert grew("http_requests_total", **ok, status="200") == 3
    assert grew("http_requests_total", **ok, status="404") == 1
    assert "course:rest-basics" not in after


async def test_errors_are_counted(probe_client: httpx.AsyncClient) -> None:
    for path in [CRASH, CRASH, MISSING, "/api/v1/nothing/here"]:
        await probe_client.get(path)
    await probe_client.request("BREW", "/api/v1/nothing/else")
    exposition = await scrape(probe_client)
    get = {"method": "GET"}
    assert sample(exposition, "http_requests_total", **get, route=CRASH, status="500") == 2
    assert sample(exposition, "http_requests_total", **get, route=MISSING, status="404") == 1
    assert (
        sample(
            exposition,
            "http_unhandled_exceptions_total",
            **get,
            route=CRASH,
            exception="RuntimeError",
        )
        == 2
    )
    assert sample(exposition, "http_requests_total", **get, route=UNMATCHED, status="404") == 1
    # Unknown paths and methods never become label values.
    assert (
        sample(exposition, "http_requests_total", method="OTHER", route=UNMATCHED, status="404")
        == 1
    )
    assert "nothing" not in exposition
    assert "BREW" not in exposition
    # The scrape itself was in flight; nothing else is.
    assert sample(exposition, "http_requests_in_flight") == 1


async def test_the_pool_is_read_at_scrape_time(
    app: FastAPI, live_client: httpx.AsyncClient, settings: Settings
) -> None:
    idle = await scrape(live_client)
    assert sample(idle, "syllabus_db_pool_size") == settings.pg_pool_size
    assert sample(idle, "syllabus_db_pool_max_overflow") == settings.pg_max_overflow
    assert sample(idle, "syllabus_db_pool_checked_out") == 0
    async with app.state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))  # holds a connection until closed
        busy = await scrape(live_client)
    assert sample(busy, "syllabus_db_pool_checked_out") == 1
    assert sample(busy, "syllabus_db_pool_overflow") == 0
    after = await scrape(live_client)
    assert sample(after, "syllabus_db_pool_checked_out") == 0
    assert sample(after, "syllabus_db_pool_checked_in") >= 1
    assert sample(after, "process_resident_memory_bytes") > 0


async def test_each_app_has_its_own_registry(settings: Settings) -> None:
    async with probed(settings) as first, probed(settings) as second:
        await first.get(MISSING)
        exposition = await scrape(second)
    assert sample(exposition, "http_requests_total", method="GET", route=MISSING, status="404") == 0
    # No engine before the lifespan has run: no pool series rather than made-up zeros.
    assert "syllabus_db_pool" not in exposition


async def test_metrics_can_be_switched_off(settings: Settings) -> None:
    async with probed(settings.model_copy(update={"metrics_enabled": False})) as http:
        response = await http.get("/metrics", headers={"X-Request-ID": "off"})
    assert_problem(response, 404)
    assert response.headers["x-request-id"] == "off"


async def test_metrics_are_not_in_the_api_schema(probe_client: httpx.AsyncClient) -> None:
    schema = (await probe_client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
