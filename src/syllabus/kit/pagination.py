"""Keyset ("seek") pagination: one helper for every list endpoint.

A cursor is the opaque, URL-safe encoding of the sort key of the last item served. The
next page is ``WHERE key > cursor ORDER BY key LIMIT n``, which stays fast at any depth,
unlike OFFSET. Pages carry ``next_cursor`` in the body and an RFC 8288 ``Link`` header.

Every list endpoint answers a :class:`Page` through :data:`Paging`, so no request can
ask for more than :data:`MAX_PAGE_SIZE` items and OpenAPI says so (``maximum`` of
``limit``).
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from syllabus.errors import UnprocessableContent

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
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )

    def map(self, convert: Callable[[T], U]) -> "Page[U]":
        """The same page with each row turned into what the API shows."""
        return Page[U](items=[convert(item) for item in self.items], next_cursor=self.next_cursor)


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> UnprocessableContent:
    return UnprocessableContent(
        "cursor is not one this endpoint produced",
        errors=[{"field": "cursor", "in": "query", "message": "invalid cursor", "type": "cursor"}],
    )


def uuid_key(key: list[Any]) -> uuid.UUID:
    """The cursor key of lists in id order (UUIDv7 ids sort by creation time)."""
    return uuid.UUID(str(key[0]))


def decode_cursor(cursor: str | None, parse: Callable[[list[Any]], K]) -> K | None:
    """The sort key inside ``cursor``, typed by ``parse``; a tampered or foreign cursor is
    a 422 naming the ``cursor`` parameter."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list):
            raise TypeError
        return parse(key)
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise _invalid_cursor() from None


def page_of(
    rows: list[T], *, limit: int, key: Any, request: Request, response: Response
) -> Page[T]:
    """Cut the extra look-ahead row, build the next cursor and the ``Link`` header.

    Callers fetch ``limit + 1`` rows; ``key(row)`` returns the row's sort key as a list.
    """
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if has_more and items else None
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
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
        return decode_cursor(self.cursor, parse)

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
