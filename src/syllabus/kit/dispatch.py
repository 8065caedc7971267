"""Route selection without trying every route in turn.

FastAPI (0.163) tries an app's routes in order, descending into every included router,
and does it twice per request (once to match, once to handle), walking the whole route
tree each time to see whether a router changed: across ~130 routes a tenth of the
outline's profile under wrk. :class:`RouteIndex` answers the same question from tables
built once: the routes whose leading literal path segments and methods fit the request,
in their original order, and the first of them that matches in full handles it, as it
would have. Everything else (no route matches in full: a 405, a slash redirect, a 404;
routes FastAPI builds on its own; websockets and lifespan) goes to FastAPI's own
routing, unchanged. tests/test_dispatch.py checks both choose alike for every route.

It relies on FastAPI's route-tree internals (``_IncludedRouter``, the effective route
context in ``scope["fastapi"]``), pinned in uv.lock; the test above fails on a change.

An included router whose routes are all API routes (every domain router) has its
effective route contexts (each route's dependant and fields built again under the full
path, FastAPI's own work) built only when a request first reaches one of them: the
tables need only each route's template, which :func:`route_paths` reads from the
include prefixes. A worker that serves a few routes never builds the others' (about
2 MiB for the whole app; docs/operations.md, "Memory and garbage collection").
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi.routing import (
    APIRoute,
    APIRouter,
    RouteContext,
    _EffectiveRouteContext,
    _IncludedRouter,
)
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.routing import PARAM_REGEX, BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

DEPTH = 3
"""Leading path segments the tables are keyed by: ``/api/v1/<resource>``."""

ANY_METHOD = ""
"""The table for a method no route names: only routes that take every method."""


@dataclass(slots=True)
class Candidate:
    """A route as FastAPI would reach it: a top-level ``route`` of the app, or an API
    route of an included router (``context`` its effective route, ``included`` its
    innermost included router); ``deferred``: one this index does not handle itself;
    ``pending``: an API route whose ``context`` is not built yet (:meth:`resolve`)."""

    route: BaseRoute
    key: tuple[str, ...]
    methods: frozenset[str] | None
    context: _EffectiveRouteContext | None = None
    included: _IncludedRouter | None = None
    deferred: bool = False
    pending: bool = False

    def resolve(self) -> None:
        """The effective route of a pending API route: its router's contexts, built by
        FastAPI (once; every route of that router at the same time)."""
        assert self.included is not None
        for context in self.included.effective_candidates():
            if isinstance(context, _EffectiveRouteContext) and context.original_route is self.route:
                self.context = context
                self.pending = False
                return
        raise LookupError(f"no effective route for {self.route!r}")  # pragma: no cover


@dataclass(slots=True)
class Tables:
    """Candidates by method, then by a prefix of the request's leading segments: for a
    known prefix, every candidate whose key is a prefix of it, in route order."""

    by_method: dict[str, dict[tuple[str, ...], list[Candidate]]] = field(default_factory=dict)

    @classmethod
    def build(cls, candidates: list[Candidate]) -> "Tables":
        methods = {method for c in candidates for method in (c.methods or ())}
        tables = cls()
        for method in [*methods, ANY_METHOD]:
            fitting = [c for c in candidates if c.methods is None or method in c.methods]
            prefixes = {c.key[:length] for c in fitting for length in range(len(c.key) + 1)}
            prefixes.add(())
            tables.by_method[method] = {
                prefix: [c for c in fitting if prefix[: len(c.key)] == c.key] for prefix in prefixes
            }
        return tables

    def candidates(self, method: str, path: str) -> list[Candidate]:
        table = self.by_method.get(method) or self.by_method[ANY_METHOD]
        segments = path.split("/", DEPTH + 1)[1 : DEPTH + 1]
        for length in range(len(segments), -1, -1):
            found = table.get(tuple(segments[:length]))
            if found is not None:
                return found
        return []  # pragma: no cover: () is always a key


def literal_key(path_format: str | None) -> tuple[str, ...]:
    """The leading path segments (at most :data:`DEPTH`) every path the route matches
    starts with: those of its template before the first parameter. No template: ``()``,
    a route any path may match."""
    if not path_format or not path_format.startswith("/"):
        return ()
    key: list[str] = []
    for segment in path_format.split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        key.append(segment)
    return tuple(key)


def _methods(route: object) -> frozenset[str] | None:
    methods = getattr(route, "methods", None)
    return frozenset(methods) if methods else None


def flatten(routes: list[BaseRoute]) -> Iterator[Candidate]:
    """The app's routes in the order FastAPI tries them, included routers opened."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            yield from _included(route)
        else:
            template = getattr(route, "path_format", None)
            yield Candidate(route, literal_key(template), _methods(route))


def _api_paths(router: _IncludedRouter) -> list[tuple[BaseRoute, str]] | None:
    """An included router whose routes are all API routes (no nested router, mount or
    plain route), its contexts left to wait for a request (see the module's doc): each
    route with its full template, its prefix and the route's path with Starlette's
    ``{name:convertor}`` written ``{name}``. ``None`` for any other router."""
    routes = router.original_router.routes
    if not routes or not all(isinstance(route, APIRoute) for route in routes):
        return None
    return [
        (route, PARAM_REGEX.sub(r"{\1}", router.include_context.path_for(route)))  # type: ignore[arg-type]
        for route in routes
    ]


def route_paths(routes: list[BaseRoute]) -> Iterator[tuple[BaseRoute, str | None]]:
    """Every route of the app as its router declared it (what ``scope["route"]`` holds)
    with the full template FastAPI matches it by (``/api/v1/courses/{course_ref}``), as
    ``iter_route_contexts`` gives them, without building the contexts of an included
    router of API routes only (:func:`_api_paths`)."""
    for route in routes:
        if not isinstance(route, _IncludedRouter):
            yield route, getattr(route, "path_format", None)
        elif (api_paths := _api_paths(route)) is not None:
            yield from api_paths
        else:
            for candidate in route.effective_candidates():
                if isinstance(candidate, _IncludedRouter):
                    yield from route_paths([candidate])
                else:
                    context = RouteContext(candidate.original_route, candidate)
                    yield context.original_route, context.path_format


def _included(router: _IncludedRouter) -> Iterator[Candidate]:
    api_paths = _api_paths(router)
    if api_paths is not None:
        for route, path in api_paths:
            yield Candidate(
                route, literal_key(path), _methods(route), included=router, pending=True
            )
        return
    for candidate in router.effective_candidates():
        if isinstance(candidate, _IncludedRouter):
            yield from _included(candidate)
        elif isinstance(candidate.original_route, APIRoute) and candidate.starlette_route is None:
            yield Candidate(
                candidate.original_route,
                literal_key(candidate.path_format),
                _methods(candidate),
                context=candidate,
                included=router,
            )
        else:  # mounts, plain routes, frontends inside a router: FastAPI's routing
            template = candidate.path_format or getattr(
                candidate.starlette_route, "path_format", None
            )
            yield Candidate(candidate.original_route, literal_key(template), None, deferred=True)


class RouteIndex:
    """The app router's routing (``router.middleware_stack``, what Starlette's
    ``Router.__call__`` runs), answering a request that a route matches in full from
    the tables; every other request goes to ``router.app``, FastAPI's own. The tables
    are rebuilt when a router is included in the app after they were built (the
    tests' probe routes)."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: ASGIApp = router.app
        self.version = -1
        self.tables = Tables()

    def current(self) -> Tables:
        version = self.router._routes_version  # bumped by include_router and friends
        if version != self.version:
            self.tables = Tables.build(list(flatten(self.router.routes)))
            self.version = version
        return self.tables

    def select(self, scope: Scope) -> tuple[Candidate, Scope] | None:
        """The route that answers the request in full and what it adds to the scope;
        ``None`` when no route does, or when FastAPI's routing must decide."""
        tables = self.current()
        for candidate in tables.candidates(scope["method"], get_route_path(scope)):
            if candidate.deferred:
                return None
            if candidate.pending:
                candidate.resolve()
            matcher = candidate.context or candidate.route
            match, child_scope = matcher.matches(scope)
            if match is Match.FULL:
                return candidate, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        selected = self.select(scope) if scope["type"] == "http" else None
        if selected is None:
            await self.fallback(scope, receive, send)
            return
        candidate, child_scope = selected
        if "router" not in scope:
            scope["router"] = self.router
        scope.update(child_scope)
        context = candidate.context
        if context is None:  # a route of the app itself, handled as Router.app does
            _route_selected(
                scope=scope,
                path=getattr(candidate.route, "path_format", None),
                mount=isinstance(candidate.route, Mount),
            )
            await candidate.route.handle(scope, receive, send)
            return
        # As FastAPI's included routers leave the scope for the route they select.
        scope["route"] = candidate.route
        _route_selected(scope=scope, path=context.path_format)
        fastapi_scope = scope.setdefault("fastapi", {})
        fastapi_scope["included_router"] = candidate.included
        fastapi_scope["effective_route_context"] = context
        await candidate.route.handle(scope, receive, send)
