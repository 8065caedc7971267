"""The app's one outer layer (:class:`Edge`), and the edge's own rules: request body
limits, a NUL in the URL refused, security headers.

Pure ASGI, not ``BaseHTTPMiddleware``: a request costs a wrapped ``receive`` and a
wrapped ``send``, no extra task and no copy of the body, because the outline endpoint
is held to the speed of a bare Starlette app. It sits outside Starlette's own
``ServerErrorMiddleware`` (see ``main.Syllabus``), so even a 500 carries the headers.

Bodies are checked while they stream in, chunk by chunk, so an oversized or too deeply
nested body is refused before the rest of it is read and before any parser sees it. The
refusal is raised from ``receive`` as :class:`~syllabus.errors.BodyRefused` and rendered
by the app's own handlers (problem+json, CORS headers included).
"""

import re
from collections.abc import Iterable, Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syllabus.config import Settings
from syllabus.db.recovery import UnitOfWork
from syllabus.errors import (
    BodyRefused,
    BodyTooDeep,
    BodyTooLarge,
    InvalidUrl,
    body_error,
    problem_response,
)
from syllabus.observability.context import current_request_id
from syllabus.observability.metrics import HttpMetrics
from syllabus.observability.requests import (
    REQUEST_ID_HEADER,
    request_finished,
    request_id_from,
    request_started,
)

HSTS = "max-age=31536000; includeSubDomains"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc (apidocs.py): their bundles, stylesheet and favicon from this
# origin, an inline start-up script, inline styles and data: images, ReDoc's search in a
# blob: worker, and "Try it out" calling this origin. Nothing from elsewhere.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")


def security_headers(*, settings: Settings, csp: str) -> list[tuple[bytes, bytes]]:
    """What every response carries; HSTS only outside ``dev`` (plain-HTTP localhost)."""
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
    }
    if settings.env != "dev":
        headers["strict-transport-security"] = HSTS
    return [(name.encode(), value.encode()) for name, value in headers.items()]


def is_json(media_type: bytes) -> bool:
    essence = media_type.split(b";")[0].strip().lower()
    return essence == b"application/json" or (
        essence.startswith(b"application/") and essence.endswith(b"+json")
    )


def nests_deeper(body: bytes, *, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects more than ``limit`` deep, found
    without parsing it and without recursion, at C speed: drop the strings, keep the
    brackets, then peel the innermost ``[]`` pairs level by level."""
    # With no quote escaped, every other piece between quotes is a string; else a regex.
    escaped = b'\\"' in body
    outside = _JSON_STRING.sub(b"", body) if escaped else b"".join(body.split(b'"')[0::2])
    brackets = outside.translate(_SQUARE, _NOT_BRACKET)
    for _ in range(limit):
        inner_removed = brackets.replace(b"[]", b"")
        if not inner_removed:
            return False
        if len(inner_removed) == len(brackets):
            # Unbalanced, so malformed: only "]]…[[" is left. Too deep if the unclosed
            # run alone is; otherwise the parser reports it (within twice the limit).
            return brackets.count(b"[") > limit
        brackets = inner_removed
    return True


def nul_in_url(scope: Scope) -> ASGIApp | None:
    """A 400 for a NUL character in the path or query string: no route or query can
    mean one, and PostgreSQL cannot compare text with it (the fuzzer's 500s)."""
    for part, found in (
        ("path", "\x00" in scope["path"]),
        ("query", b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]),
    ):
        if found:
            error = InvalidUrl(
                f"the {part} must not contain NUL (U+0000) characters",
                errors=[
                    {"field": part, "in": part, "message": "NUL character", "type": "nul_character"}
                ],
            )
            return problem_response(error, instance=scope["path"].replace("\x00", "\ufffd"))
    return None


def _declared(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Content-Length (0 when absent or not a number) and Content-Type of a request."""
    length, media_type = 0, b""
    for name, value in headers:
        if name == b"content-length":
            length = int(value) if value.isdigit() else 0
        elif name == b"content-type":
            media_type = value
    return length, media_type


class LimitedBody:
    """``receive`` for one request: refuses a body longer than ``limit`` bytes, whether
    it says so in Content-Length (before reading any of it) or not (counted as it
    arrives, so a missing or lying Content-Length changes nothing), and a JSON body that
    nests deeper than ``max_depth``, once it is complete and before any parser sees it.

    The headers are looked at on the first ``receive`` only, so a request whose body is
    never read (every GET) pays for nothing but this object. Most JSON bodies open fewer
    arrays and objects in all than ``max_depth``, so they cannot nest deeper: their
    brackets are only counted."""

    __slots__ = ("chunks", "headers", "limit", "max_depth", "opened", "receive", "received")

    def __init__(
        self,
        receive: Receive,
        *,
        headers: Iterable[tuple[bytes, bytes]],
        limit: int,
        max_depth: int,
    ) -> None:
        self.receive = receive
        self.headers = headers
        self.limit = limit
        self.max_depth = max_depth
        self.received = -1  # not started
        self.opened = 0
        self.chunks: list[bytes] | None = None  # a JSON body so far

    def _start(self) -> None:
        declared, media_type = _declared(self.headers)
        if declared > self.limit:
            raise self._too_large()
        self.received = 0
        if is_json(media_type):
            self.chunks = []

    def _too_large(self) -> BodyRefused:
        message = f"larger than {self.limit} bytes"
        return BodyRefused(
            body_error(BodyTooLarge, message, kind="too_large", max_bytes=self.limit)
        )

    def _too_deep(self) -> BodyRefused:
        message = f"nested deeper than {self.max_depth} levels of arrays and objects"
        return BodyRefused(
            body_error(BodyTooDeep, message, kind="json_too_deep", max_depth=self.max_depth)
        )

    def _check_depth(self, chunks: list[bytes], chunk: bytes, *, last: bool) -> None:
        chunks.append(chunk)
        self.opened += chunk.count(b"[") + chunk.count(b"{")
        if not last or self.opened <= self.max_depth:
            return
        self.chunks = []
        if nests_deeper(b"".join(chunks), limit=self.max_depth):
            raise self._too_deep()

    async def __call__(self) -> Message:
        if self.received < 0:
            self._start()
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self.received += len(chunk)
        if self.received > self.limit:
            raise self._too_large()
        if self.chunks is not None:
            self._check_depth(self.chunks, chunk, last=not message.get("more_body", False))
        return message


NO_CONTENT = frozenset({204, 304})
"""Answers without content, so without a ``Content-Type`` (RFC 9110 15.3.5, 15.4.5)."""


def answer_start(
    message: Message,
    *,
    security: Sequence[tuple[bytes, bytes]],
    request_id: tuple[bytes, bytes],
) -> Message:
    """The start of an answer with the headers every answer carries, the request id
    last; no ``Content-Type`` on one without content. A security header the answer sets
    itself is kept (the sandbox payment page states its own policy, whose form must
    post: a second CSP could only narrow it)."""
    headers = message.get("headers", ())
    if message["status"] in NO_CONTENT:
        headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
    own = {name.lower() for name, _ in headers}
    added = [header for header in security if header[0] not in own]
    return {**message, "headers": [*headers, *added, request_id]}


class Edge:
    """The app's one pure-ASGI layer, outside Starlette's ``ServerErrorMiddleware``: per
    HTTP request one wrapped ``receive``, one wrapped ``send`` and one frame, for the
    rules of three concerns, each kept in its module:

    - observability (:mod:`syllabus.observability.requests`): the request id in and out
      (also on the 500s ``ServerErrorMiddleware`` writes), one access-log record, the
      request counted and timed; an exception raised after the answer is complete is
      stopped here (the app's handler logged it with the request id; the server would
      log it a second time, without);
    - the edge (this module): a NUL in the URL refused, body limits on the way in,
      security headers on the way out, ``HEAD`` answered as ``GET`` without the body
      (FastAPI routes a GET route for GET only), no ``Content-Type`` on an answer that
      has no content;
    - recovery (:class:`~syllabus.db.recovery.UnitOfWork`): a request that met a dead
      pooled PostgreSQL connection before any statement succeeded runs once more, its
      body replayed (after the body checks) and the failed run's 503 held back.

    Everything that does not depend on the request is computed here, once per app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        docs_paths: Iterable[str],
        upload_paths: Iterable[tuple[re.Pattern[str], int]] = (),
        metrics: HttpMetrics | None = None,
        templates: Mapping[int, str] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.upload_paths = tuple(upload_paths)
        """Paths that take files (multipart), each with its own larger body limit."""
        self.max_json_depth = settings.max_json_depth
        self.docs_paths = frozenset(docs_paths)
        self.api_headers = security_headers(settings=settings, csp=API_CSP)
        self.docs_headers = security_headers(settings=settings, csp=DOCS_CSP)
        self.metrics = metrics
        self.templates: Mapping[int, str] = templates or {}

    def body_limit(self, path: str) -> int:
        for pattern, most in self.upload_paths:
            if pattern.match(path):
                return most
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        path = scope["path"]
        security = self.docs_headers if path in self.docs_paths else self.api_headers
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        head = scope["method"] == "HEAD"
        # The GET route answers; its Content-Length stays, as RFC 9110 9.3.2 allows.
        routed = {**scope, "method": "GET"} if head else scope
        body = LimitedBody(
            receive,
            headers=scope["headers"],
            limit=self.body_limit(path),
            max_depth=self.max_json_depth,
        )
        unit = UnitOfWork(body)
        status = 500  # what the server answers if the app never starts a response
        finished = False

        async def respond(message: Message) -> None:
            nonlocal status, finished
            if unit.holds_back():
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                message = answer_start(message, security=security, request_id=id_header)
            elif message["type"] == "http.response.body":
                if head:
                    message = {**message, "body": b""}
                if not message.get("more_body"):
                    finished = True
            await send(message)

        token = current_request_id.set(request_id)
        metrics = self.metrics
        started = request_started(metrics)
        error: Exception | None = None
        try:
            refused = nul_in_url(routed)
            if refused is not None:
                await refused(routed, receive, respond)
            else:
                await unit.run(self.app, routed, respond)
        except Exception as raised:
            error = raised
            if not finished:
                raise
        finally:
            request_finished(
                scope,
                routed=routed,
                started=started,
                status=status,
                error=error,
                metrics=metrics,
                templates=self.templates,
            )
            current_request_id.reset(token)
