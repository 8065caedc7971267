"""URLs: how a request's path is written into logs, and the absolute links the API
gives out."""

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.types import Scope


def path_as_sent(scope: Scope) -> str:
    """The path still percent-encoded, as the client sent it: decoded, a ``%0A`` or
    ``%00`` would write line breaks and control characters into a log line."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return str(scope["path"]).encode("unicode_escape").decode("ascii")
    return raw.decode("ascii", "backslashreplace")


def absolute_url(request: Request, url: URL) -> str:
    """``url``'s path and query under the public base URL (``SYLLABUS_PUBLIC_BASE_URL``):
    never the scheme and host the request claims, which a client chooses (``Host:
    evil.example`` would otherwise be written into the links the answer gives)."""
    base: str = request.app.state.settings.public_url
    return f"{base}{url.path}" + (f"?{url.query}" if url.query else "")
