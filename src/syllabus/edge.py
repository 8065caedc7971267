"""Request body limits and security headers: the layer just inside the request id one
(:class:`~syllabus.observability.requests.Observe`), outside everything else.

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
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syllabus.config import Settings
from syllabus.errors import (
    BodyRefused,
    BodyTooDeep,
    BodyTooLarge,
    InvalidUrl,
    body_error,
    problem_response,
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


def _without_content_type(message: Message) -> Message:
    headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"content-type"]
    return {**message, "headers": headers}


class Edge:
    """Body limits on the way in, security headers on the way out; ``HEAD`` answered as
    ``GET`` without the body (FastAPI routes a GET route for GET only), and no
    ``Content-Type`` on an answer that has no content."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        docs_paths: Iterable[str],
        upload_paths: Iterable[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.upload_paths = tuple(upload_paths)
        """Paths that take files (multipart), each with its own larger body limit."""
        self.max_json_depth = settings.max_json_depth
        self.docs_paths = frozenset(docs_paths)
        self.api_headers = security_headers(settings=settings, csp=API_CSP)
        self.docs_headers = security_headers(settings=settings, csp=DOCS_CSP)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] in self.docs_paths else self.api_headers
        refused = nul_in_url(scope)
        head = scope["method"] == "HEAD"
        if head:
            # The GET route answers; its Content-Length stays, as RFC 9110 9.3.2 allows.
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] in NO_CONTENT:
                    message = _without_content_type(message)
                # A response that states a policy of its own (the sandbox payment page,
                # whose form must post) keeps it: a second CSP could only narrow it.
                own = {name.lower() for name, _ in message.get("headers", ())}
                added = [(name, value) for name, value in extra if name not in own]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        if refused is not None:
            await refused(scope, receive, send_with_headers)
            return
        limit = next(
            (most for path, most in self.upload_paths if path.match(scope["path"])),
            self.max_body_bytes,
        )
        body = LimitedBody(
            receive,
            headers=scope["headers"],
            limit=limit,
            max_depth=self.max_json_depth,
        )
        await self.app(scope, body, send_with_headers)
