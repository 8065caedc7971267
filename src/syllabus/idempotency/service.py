"""Run a write once per (user, Idempotency-Key) and replay its answer to every retry.

The answer is stored in the request's own transaction, so a crash loses the write and
its answer together or keeps both: a retry either does the work or replays it, never
both. Concurrent requests with one key queue on a transaction-scoped advisory lock; the
second one reads the first one's committed answer. Keys are remembered for
:data:`KEEP_FOR`; reusing an older key starts afresh (its row is replaced).
"""

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import UnprocessableContent
from syllabus.idempotency import repository
from syllabus.idempotency.models import MAX_KEY_LENGTH, MIN_KEY_LENGTH, IdempotencyRecord


class IdempotencyKeyReused(UnprocessableContent):
    """The ``Idempotency-Key`` was first used for another route or another body; a retry
    must send the same request."""

    title = "Idempotency key reused"
    code = "idempotency-key-reused"


KEY_RULE = (
    "unique per write: a retry with the same key and body gets the first answer again, "
    "byte for byte, without writing twice (kept 24 h); the same key with another body is "
    "a 422."
)
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=MIN_KEY_LENGTH,
        max_length=MAX_KEY_LENGTH,
        description=f"Optional, {KEY_RULE}",
    ),
]
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=MIN_KEY_LENGTH,
        max_length=MAX_KEY_LENGTH,
        description=f"Required, {KEY_RULE}",
    ),
]
"""For writes a client must never repeat by accident (grading a quiz submission)."""


@dataclass(frozen=True)
class Outcome:
    """An answer as sent: status and JSON text."""

    status: int
    body: str

    @classmethod
    def of(cls, content: Any, *, status: int = 200) -> "Outcome":
        """Rendered as :class:`JSONResponse` renders it, so keyed and unkeyed requests
        get the same bytes."""
        return cls(status, bytes(JSONResponse(content).body).decode())

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, media_type="application/json")


def fingerprint(body: Any) -> str:
    """sha256 of the canonical JSON of the request body (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def once(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    method: str,
    route: str,
    request_hash: str,
    run: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """``run()`` unless this user's ``key`` already answered: then that answer. A key
    first used for another route or body is refused (422 naming the header)."""
    if key is None:
        return await run()
    await repository.lock_key(session, user_id=user_id, key=key)
    record = await repository.live_record(session, user_id=user_id, key=key)
    if record is not None:
        if (record.method, record.route, record.request_hash) != (method, route, request_hash):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request", field="Idempotency-Key"
            )
        return Outcome(record.response_status, record.response_body)
    outcome = await run()
    session.add(
        IdempotencyRecord(
            user_id=user_id,
            key=key,
            method=method,
            route=route,
            request_hash=request_hash,
            response_status=outcome.status,
            response_body=outcome.body,
        )
    )
    await session.flush()
    return outcome


async def answer_once(
    *,
    request: Request,
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    body: Any,
    run: Callable[[], Awaitable[Outcome]],
) -> Response:
    """:func:`once` for a route: keyed by the request's method and path, fingerprinted
    by its JSON ``body`` (``None`` for none), answered as sent the first time."""
    outcome = await once(
        session=session,
        user_id=user_id,
        key=key,
        method=request.method,
        route=request.url.path,
        request_hash=fingerprint(body),
        run=run,
    )
    return outcome.response()


async def purge_expired(*, session: AsyncSession) -> int:
    """Every user's expired keys (``syllabus purge``); ``once`` replaces one as it is reused."""
    return await repository.delete_expired(session)


async def forget_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Erasure: stored answers can repeat what the user wrote (notes)."""
    await repository.delete_user_keys(session, user_id=user_id)
