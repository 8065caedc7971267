"""HTTP caching for content: strong ETags from content hashes, and 304 answers."""

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

CACHE_CONTROL = "private, no-cache"
"""Clients may keep a copy but must revalidate; ``private`` because access can depend
on who asks (paid lessons)."""


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def cached_json(
    request: Request, body: BaseModel | dict[str, Any] | bytes, *, etag_source: str
) -> Response:
    """``body`` as JSON with ``ETag``; ``304 Not Modified`` when the client has it.
    A dict must already be JSON-ready (strings for datetimes); bytes are JSON already."""
    etag = f'"{etag_source}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if isinstance(body, dict):
        # pydantic-core's encoder (Rust): the outline's JSON was a sixth of its profile
        # under wrk with the standard library's (bench/RESULTS.md). Same bytes: compact,
        # UTF-8, no NaN (a JSON-ready dict has none).
        body = to_json(body)
    elif not isinstance(body, bytes):
        body = body.model_dump_json().encode()
    return Response(body, headers=headers, media_type="application/json")
