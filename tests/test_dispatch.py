"""The route index (kit/dispatch.py) selects, for every request a route matches in full,
the route FastAPI's own routing selects, and leaves every other request to it: checked
here path by path, method by method, for paths made from every route of the app, their
near misses (a trailing slash, a segment changed, one too many) and paths no route has."""

import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import _IncludedRouter, iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from syllabus.config import Settings
from syllabus.kit.dispatch import RouteIndex, literal_key
from syllabus.main import API_PREFIX, create_app

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND")
PARAMETER = re.compile(r"\{[^}]*\}")
SAMPLES = ("x1", "0b3c4e0a-5d1c-4a52-9f0e-2f7d1a6b8c90", "outline")


def scope_for(method: str, path: str) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def fastapi_choice(app: FastAPI, scope: Scope) -> BaseRoute | None:
    """The route FastAPI's routing hands a request to when one matches it in full: the
    first in the app's order, included routers searched with their own ``_match``."""
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            chosen = _within(route, scope)
            if chosen is not None:
                return chosen
        elif route.matches(scope)[0] is Match.FULL:
            return route
    return None


def _within(included: _IncludedRouter, scope: Scope) -> BaseRoute | None:
    match, _, route, _ = included._match(scope)
    if match is not Match.FULL or route is None:
        return None
    return _within(route, scope) if isinstance(route, _IncludedRouter) else route


def paths_of(app: FastAPI) -> set[str]:
    paths = {"/", "", "/api", "/api/v1", "/api/v1/", "/nope", "/api/v1/nope/x1", "/docs/"}
    for context in iter_route_contexts(app.routes):
        template = context.path_format
        if not template:
            continue
        for sample in SAMPLES:
            path = PARAMETER.sub(sample, template)
            head, _, last = path.rpartition("/")
            paths |= {path, path + "/", path + "/extra", head + "/zzz", head, f"{head}//{last}"}
    return paths


@pytest.mark.parametrize("metrics", [True, False])
def test_the_index_chooses_as_fastapi_does(settings: Settings, metrics: bool) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": metrics}))
    index = RouteIndex(app.router)
    chosen = 0
    for path in sorted(paths_of(app)):
        for method in METHODS:
            expected = fastapi_choice(app, scope_for(method, path))
            selected = index.select(scope_for(method, path))
            assert (selected[0].route if selected else None) is expected, (method, path)
            chosen += expected is not None
    assert chosen > 150  # the check compared real choices, not only misses


async def test_a_router_included_after_the_first_request_is_routed() -> None:
    app = FastAPI()
    first, later = APIRouter(), APIRouter(prefix="/later")

    @first.get("/a")
    async def a() -> str:
        return "a"

    @later.get("/b")
    async def b() -> str:
        return "b"

    app.include_router(first)
    app.router.middleware_stack = RouteIndex(app.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/a")).json() == "a"
        assert (await http.get("/later/b")).status_code == 404
        app.include_router(later)
        assert (await http.get("/later/b")).json() == "b"
        assert (await http.post("/a")).status_code == 405  # FastAPI's own answer


def test_the_literal_key_stops_at_the_first_parameter() -> None:
    assert literal_key("/api/v1/courses/{course_ref}/outline") == ("api", "v1", "courses")
    assert literal_key("/api/v1/{x}") == ("api", "v1")
    assert literal_key("/health/live") == ("health", "live")
    assert literal_key("/docs-assets/{path}") == ("docs-assets",)
    assert literal_key(None) == ()


def test_the_api_routes_are_built_only_for_the_app(settings: Settings) -> None:
    """create_app() includes the API router with its prefix: included without one, FastAPI
    checks it by building every route's effective context on the router's own branches,
    which keep them and never serve (about 2 MiB of each worker; docs/operations.md)."""
    app = create_app(settings)
    (api,) = [
        route
        for route in app.router.routes
        if isinstance(route, _IncludedRouter) and route.include_context.prefix == API_PREFIX
    ]
    branches = [r for r in api.original_router.routes if isinstance(r, _IncludedRouter)]
    assert len(branches) > 10
    assert [b for b in branches if b._effective_candidates_version is not None] == []


async def test_a_router_s_routes_are_built_when_a_request_first_reaches_one(
    settings: Settings,
) -> None:
    """The index builds an included router's effective routes (FastAPI's dependants and
    fields under the full path) at the first request that reaches that router, not at
    start: a worker never builds the routes it never serves (kit/dispatch.py)."""
    app = create_app(settings)
    (api,) = [
        route
        for route in app.router.routes
        if isinstance(route, _IncludedRouter) and route.include_context.prefix == API_PREFIX
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/health/live")).status_code == 200
    branches = [b for b in api.effective_candidates() if isinstance(b, _IncludedRouter)]
    assert len(branches) > 10
    assert [b for b in branches if b._effective_candidates_version is not None] == []
