"""Every response carries the security headers (successes, problems, the 500s Starlette
writes itself, CORS preflights), HSTS everywhere but ``dev``, a CSP that lets the docs
page run and nothing else; CORS comes from the settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from syllabus.config import Settings
from syllabus.edge import API_CSP, DOCS_CSP, HSTS
from tests.probe import assert_problem, probed

ORIGIN = "https://app.example"
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: httpx.Response, *, csp: str = API_CSP, hsts: bool = True) -> None:
    for name, value in COMMON.items():
        assert response.headers.get_list(name) == [value], (name, response.request.url)
    assert response.headers["content-security-policy"] == csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers.get("strict-transport-security") == (HSTS if hsts else None)


async def test_every_kind_of_response_carries_the_headers(
    client: httpx.AsyncClient, probe_client: httpx.AsyncClient
) -> None:
    responses = [
        await client.get("/health/live"),
        await client.get("/api/v1/courses"),
        await client.get("/api/v1/nothing-here"),
        await client.get("/api/v1/users/me"),
        await client.put(
            "/api/v1/progress/lessons/lesson:x",
            content=b"[" * 100,
            headers={"Content-Type": "application/json"},
        ),
        await client.get("/openapi.json"),
        await probe_client.get("/api/v1/_probe/crash"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 401, 400, 200, 500]
    for response in responses:
        assert_secured(response)


async def test_the_docs_pages_may_run_their_own_scripts_and_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    for page in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert_secured(response, csp=DOCS_CSP)
    assert "script-src 'self' 'unsafe-inline';" in DOCS_CSP
    assert "script-src" not in API_CSP
    assert API_CSP.startswith("default-src 'none';")


async def test_dev_sends_no_hsts(settings: Settings) -> None:
    async with probed(settings.model_copy(update={"env": "dev"})) as http:
        live = await http.get("/health/live")
        crash = await http.get("/api/v1/_probe/crash")
    for response in (live, crash):
        assert_secured(response, hsts=False)


@asynccontextmanager
async def cors_client(settings: Settings, origins: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    async with probed(settings.model_copy(update={"cors_origins": origins})) as http:
        yield http


async def test_cors_answers_listed_origins_without_credentials(settings: Settings) -> None:
    async with cors_client(settings, [ORIGIN]) as http:
        preflight = await http.options(
            "/api/v1/progress/lessons/lesson:x",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": (
                    "authorization, content-type, if-none-match, x-request-id"
                ),
            },
        )
        simple = await http.get("/health/live", headers={"Origin": ORIGIN})
        stranger = await http.get("/health/live", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {
        "authorization",
        "content-type",
        "if-none-match",
        "idempotency-key",
        "x-request-id",
    } <= {header.strip() for header in allowed.split(",")}
    assert "access-control-allow-credentials" not in preflight.headers
    assert_secured(preflight)
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "retry-after", "x-request-id"} <= exposed
    assert "access-control-allow-origin" not in stranger.headers


async def test_a_refused_preflight_is_a_problem_naming_what_was_refused(
    settings: Settings,
) -> None:
    async with cors_client(settings, [ORIGIN]) as http:
        refused = await http.options(
            "/api/v1/progress/lessons/lesson:x",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "TRACE",
            },
        )
    body = assert_problem(refused, 400)
    assert [error["field"] for error in body["errors"]] == [
        "Origin",
        "Access-Control-Request-Method",
    ]
    assert "access-control-allow-origin" not in refused.headers
    assert_secured(refused)


async def test_no_origins_no_cors(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/health/live", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    preflight = await probe_client.options(
        "/health/live", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 405
    assert_secured(preflight)


@pytest.mark.parametrize("status", [413, 415])
async def test_cors_headers_reach_refusals_of_the_body(settings: Settings, status: int) -> None:
    """A browser can read why its upload was refused."""
    content, media_type = (
        (b"x" * (settings.max_body_bytes + 1), "application/json")
        if status == 413
        else (b"{}", "text/plain")
    )
    async with cors_client(settings, [ORIGIN]) as http:
        response = await http.post(
            "/api/v1/_probe/widgets",
            content=content,
            headers={"Origin": ORIGIN, "Content-Type": media_type},
        )
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == ORIGIN
