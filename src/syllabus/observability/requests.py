"""The outermost layer of the app: a request id, one access-log record and the HTTP
metrics for every request.

Pure ASGI like :class:`~syllabus.edge.Edge` (which it wraps): per request a wrapped
``send``, a context variable set and reset, two clock reads and, with metrics on, a
cached counter and histogram child. It sits outside Starlette's ``ServerErrorMiddleware``
(see ``main.Syllabus``), so the 500s that middleware writes carry the request id and
are counted.

The route label and the access log name the matched route's template
(``/api/v1/courses/{course_ref}``), which the router leaves in ``scope["route"]``, never
the raw path: one time series per route, not one per course id.
"""

import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from time import perf_counter

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syllabus.kit.urls import path_as_sent
from syllabus.observability.context import current_request_id
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
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(routes)
        if context.path_format
    }


def route_of(scope: Scope, templates: Mapping[int, str]) -> str:
    """The template of the route the router matched (also for a 405), else ``<unmatched>``."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    template: str | None = templates.get(id(route)) or getattr(route, "path_format", None)
    return template or UNMATCHED


class Observe:
    """Request id in, request id out; then one access-log record and, when ``metrics``
    is given, the request counted and timed. ``templates``: see :func:`route_templates`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics | None,
        templates: Mapping[int, str],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the server answers if the app never starts a response
        finished = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        token = current_request_id.set(request_id)
        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight.inc()
        started = perf_counter()
        error: Exception | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as raised:
            error = raised
            if not finished:
                raise
            # The 500 is answered and the app's handler has logged the traceback with the
            # request id (ServerErrorMiddleware calls it, then re-raises). Raising on
            # would make the server log it a second time, without the id.
        finally:
            seconds = perf_counter() - started
            method = _method(scope)
            route = route_of(scope, self.templates)
            if metrics is not None:
                metrics.in_flight.dec()
                metrics.observe(method=method, route=route, status=status, seconds=seconds)
                if error is not None:
                    metrics.unhandled(method=method, route=route, error=error)
            _log_access(scope, method=method, route=route, status=status, seconds=seconds)
            current_request_id.reset(token)


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
