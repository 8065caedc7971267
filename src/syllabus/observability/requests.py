"""The request id, one access-log record and the HTTP metrics of every request: the
rules the app's one outer layer (:class:`~syllabus.edge.Edge`) calls.

Per request a header scan, a context variable set and reset (by the layer), two clock
reads and, with metrics on, a cached counter and histogram child. The layer sits outside
Starlette's ``ServerErrorMiddleware`` (see ``main.Syllabus``), so the 500s that
middleware writes carry the request id and are counted.

The route label and the access log name the matched route's template
(``/api/v1/courses/{course_ref}``), which the router leaves in ``scope["route"]``, never
the raw path: one time series per route, not one per course id.
"""

import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from time import perf_counter

from starlette.routing import BaseRoute
from starlette.types import Scope

from syllabus.kit.dispatch import route_paths
from syllabus.kit.urls import path_as_sent
from syllabus.observability.metrics import HttpMetrics

REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID_LENGTH = 128
# Token characters that are safe in a log line, a header and a URL, without escaping.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,%d}" % MAX_REQUEST_ID_LENGTH)
UNMATCHED = "<unmatched>"
OTHER_METHOD = "OTHER"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes arrive every few seconds from every replica: their successes are
# logged at DEBUG, not INFO.
QUIET_ROUTES = frozenset({"/metrics", "/health/live", "/health/ready"})

access_log = logging.getLogger("syllabus.access")


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` if it is a sane token (at most 128 of
    ``A-Z a-z 0-9 . _ : -``), else a new random one: 128 random bits as 32 hex digits
    (``uuid4().hex`` costs four times as much for 122). A value that is not sane is
    replaced, never cleaned, so a log line never holds what a client forged."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _SANE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return secrets.token_hex(16)


def route_templates(routes: Sequence[BaseRoute]) -> dict[int, str]:
    """The full template of every route of the app, by ``id()`` of the route object
    (routes compare by value, so they are not hashable). FastAPI (0.163)
    does not copy the routes of an included router any more: ``scope["route"]`` is the
    route as its own router declared it, without the prefixes it was included under
    (``/courses/{course_ref}``, not ``/api/v1/courses/{course_ref}``)."""
    return {id(route): template for route, template in route_paths(list(routes)) if template}


def route_of(scope: Scope, templates: Mapping[int, str]) -> str:
    """The template of the route the router matched (also for a 405), else ``<unmatched>``."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    template: str | None = templates.get(id(route)) or getattr(route, "path_format", None)
    return template or UNMATCHED


def request_started(metrics: HttpMetrics | None) -> float:
    """Count the request in flight (with metrics on); its start on the clock."""
    if metrics is not None:
        metrics.in_flight.inc()
    return perf_counter()


def request_finished(
    scope: Scope,
    *,
    routed: Scope,
    started: float,
    status: int,
    error: Exception | None,
    metrics: HttpMetrics | None,
    templates: Mapping[int, str],
) -> None:
    """One access-log record and, when ``metrics`` is given, the request counted and
    timed. ``routed``: the scope the router saw (it names the route; a ``HEAD`` is
    routed as ``GET``); ``error``: what the app raised after answering, if anything.
    ``templates``: see :func:`route_templates`."""
    seconds = perf_counter() - started
    method = _method(scope)
    route = route_of(routed, templates)
    if metrics is not None:
        metrics.in_flight.dec()
        metrics.observe(method=method, route=route, status=status, seconds=seconds)
        if error is not None:
            metrics.unhandled(method=method, route=route, error=error)
    _log_access(scope, method=method, route=route, status=status, seconds=seconds)


def _method(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in KNOWN_METHODS else OTHER_METHOD


def _log_access(scope: Scope, *, method: str, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    path = path_as_sent(scope)
    duration_ms = round(seconds * 1000, 2)
    access_log.log(
        level,
        "%s %s %d %.1f ms",
        scope["method"],
        path,
        status,
        duration_ms,
        extra={
            "method": scope["method"],
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client": client[0] if client else None,
        },
    )
