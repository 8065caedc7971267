"""How a request's path is written into logs."""

from starlette.types import Scope


def path_as_sent(scope: Scope) -> str:
    """The path still percent-encoded, as the client sent it: decoded, a ``%0A`` or
    ``%00`` would write line breaks and control characters into a log line."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return str(scope["path"]).encode("unicode_escape").decode("ascii")
    return raw.decode("ascii", "backslashreplace")
