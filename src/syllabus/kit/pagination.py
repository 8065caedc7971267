"""Keyset ("seek") pagination: one helper for every list endpoint.

A cursor is the opaque, URL-safe encoding of the sort key of the last item served. The
next page is ``WHERE key > cursor ORDER BY key LIMIT n``, which stays fast at any depth,
unlike OFFSET. Pages carry ``next_cursor`` in the body and an RFC 8288 ``Link`` header.

Cursors are signed (HMAC-SHA256 with the server's cursor key, over the list's path and
the key), so only a cursor this service issued for this list is accepted: a forged one
never reaches a query. The values inside are checked anyway (no NUL, finite numbers,
datetimes PostgreSQL can compare), so a leaked key still cannot make a 500.

Every list endpoint answers a :class:`Page` through :data:`Paging`, so no request can
ask for more than :data:`MAX_PAGE_SIZE` items and OpenAPI says so (``maximum`` of
``limit``).
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from syllabus.errors import ValidationFailed
from syllabus.kit.schemas import contains_non_finite, contains_nul
from syllabus.kit.urls import absolute_url

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}."),
]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page."),
]


class Page(BaseModel, Generic[T]):
    # Built at first use, not at import: see kit.schemas.OutputSchema.
    model_config = ConfigDict(defer_build=True)

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """``CoursePublicPage`` in OpenAPI and generated clients, not ``Page_CoursePublic_``."""
        return f"{getattr(params[0], '__name__', 'Item')}Page"

    def map(self, convert: Callable[[T], U]) -> "Page[U]":
        """The same page with each row turned into what the API shows."""
        return Page[U](items=[convert(item) for item in self.items], next_cursor=self.next_cursor)


TAG_BYTES = 16
"""HMAC-SHA256 cut to 128 bits: forging one takes 2**128 guesses, each a request."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(secret: bytes, scope: str, payload: str) -> bytes:
    message = f"{scope}\n{payload}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[:TAG_BYTES]


def encode_cursor(key: list[Any], *, secret: bytes, scope: str) -> str:
    """``<key as base64 JSON>.<tag>``: the tag binds the key to ``scope`` (the list's
    path), so a cursor of one list is refused by another."""
    payload = _b64(json.dumps(key, separators=(",", ":"), default=str).encode())
    return f"{payload}.{_b64(_tag(secret, scope, payload))}"


class InvalidCursor(ValueError):
    """Not a cursor this service issued for this list, or a value no query can use."""


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor is not one this endpoint produced",
        errors=[{"field": "cursor", "in": "query", "message": "invalid cursor", "type": "cursor"}],
    )


def _refuse_constant(name: str) -> Any:
    raise InvalidCursor(name)  # NaN, Infinity: not JSON, but Python's parser takes them


def uuid_key(key: list[Any]) -> uuid.UUID:
    """The cursor key of lists in id order (UUIDv7 ids sort by creation time)."""
    return uuid.UUID(str(key[0]))


def code_key(key: list[Any]) -> str:
    """The cursor key of lists in code order (achievements, plans)."""
    code = key[0]
    if not isinstance(code, str):
        raise TypeError
    return code


def key_datetime(value: Any) -> datetime:
    """A datetime from a cursor, aware and in UTC: a naive one, or one that does not fit
    the calendar in UTC (year 1 at +14:00), could not be sent to PostgreSQL."""
    if not isinstance(value, str):
        raise InvalidCursor("not a datetime")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise InvalidCursor("a datetime without a time zone")
    return moment.astimezone(UTC)


def decode_cursor(
    cursor: str | None, parse: Callable[[list[Any]], K], *, secret: bytes, scope: str
) -> K | None:
    """The sort key inside ``cursor``, typed by ``parse``; a tampered or foreign cursor,
    or one whose values no query can use, is a 422 naming the ``cursor`` parameter."""
    if cursor is None:
        return None
    try:
        payload, _, tag = cursor.partition(".")
        if not hmac.compare_digest(_unb64(tag), _tag(secret, scope, payload)):
            raise InvalidCursor("not signed by this service for this list")
        key = json.loads(_unb64(payload), parse_constant=_refuse_constant)
        if not isinstance(key, list) or contains_nul(key) or contains_non_finite(key):
            raise InvalidCursor("not a key")
        return parse(key)
    except (
        binascii.Error,
        ValueError,  # InvalidCursor, JSONDecodeError, UnicodeDecodeError, a bad UUID or date
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        OverflowError,  # a datetime beyond the calendar once in UTC
    ):
        raise _invalid_cursor() from None


def _list_scope(request: Request) -> str:
    """What a cursor is bound to: the list's path as the client asked for it."""
    return request.url.path


def _cursor_secret(request: Request) -> bytes:
    secret: bytes = request.app.state.settings.cursor_key
    return secret


def page_of(
    rows: list[T], *, limit: int, key: Any, request: Request, response: Response
) -> Page[T]:
    """Cut the extra look-ahead row, build the next cursor and the ``Link`` header.

    Callers fetch ``limit + 1`` rows; ``key(row)`` returns the row's sort key as a list.
    """
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = (
        encode_cursor(key(items[-1]), secret=_cursor_secret(request), scope=_list_scope(request))
        if has_more and items
        else None
    )
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=limit)
        response.headers["Link"] = f'<{absolute_url(request, url)}>; rel="next"'
    return Page[T](items=items, next_cursor=next_cursor)


@dataclass(frozen=True)
class PageRequest:
    """``limit`` and ``cursor`` of a list request, with what turning rows into a page
    needs (the URL for ``Link``, the response for its header)."""

    limit: int
    cursor: str | None
    request: Request
    response: Response

    def after(self, parse: Callable[[list[Any]], K]) -> K | None:
        return decode_cursor(
            self.cursor,
            parse,
            secret=_cursor_secret(self.request),
            scope=_list_scope(self.request),
        )

    def page(self, rows: list[T], *, key: Callable[[T], list[Any]]) -> Page[T]:
        return page_of(
            rows, limit=self.limit, key=key, request=self.request, response=self.response
        )


async def page_request(
    request: Request,
    response: Response,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor, request=request, response=response)


Paging = Annotated[PageRequest, Depends(page_request)]
"""The ``limit`` (1 to 100, default 20) and ``cursor`` query parameters of a list endpoint."""
