"""Recovering from PostgreSQL connections that died while they sat in the pool (a server
restart, a failover), without a ping per checkout (a round trip per request; 10 % of the
outline) and without failing a request.

A pooled connection killed by a restart fails on its first use. If that use was the first
statement of a unit of work, nothing of the unit reached the database (the server never
saw a transaction), so running the whole unit again, once, on a fresh connection, is safe
and invisible to the client. Once any statement of the unit succeeded, a dropped
connection is a real outage in the middle of the work: it stays a 503 (and the client's
Idempotency-Key makes its retry safe).

- :class:`Attempt` records, for one run of a unit of work, whether a statement succeeded
  and whether one failed on a dead connection before that; :func:`watch` hooks an engine
  so its statements update the attempt of the context they run in (a context-variable
  read and an attribute write per statement; no query); a statement sent to the driver
  itself (:func:`syllabus.db.sql.pooled_driver`) reports the same two facts.
- :class:`UnitOfWork` runs a request as one unit of work for the app's outer layer
  (:class:`~syllabus.edge.Edge`) and, when its attempt was stale, runs it once more,
  the body replayed.
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syllabus.kit.urls import path_as_sent

logger = logging.getLogger(__name__)


@dataclass
class Attempt:
    """One run of a unit of work, as its statements went."""

    succeeded: bool = False
    """A statement completed: from here on a dropped connection is not retried."""
    stale: bool = False
    """A statement failed on a connection found dead, before any statement succeeded."""


current_attempt: ContextVar[Attempt | None] = ContextVar("current_attempt", default=None)


def statement_succeeded() -> None:
    """A statement of the current unit of work completed."""
    attempt = current_attempt.get()
    if attempt is not None:
        attempt.succeeded = True


def dead_connection_met() -> None:
    """A statement of the current unit of work failed on a connection found dead."""
    attempt = current_attempt.get()
    if attempt is not None and not attempt.succeeded:
        attempt.stale = True


def _statement_done(*_args: Any) -> None:
    statement_succeeded()


def _statement_failed(context: ExceptionContext) -> None:
    if context.is_disconnect:
        dead_connection_met()


def retrying() -> bool:
    """Whether the current unit of work met a dead connection first and will run again
    (its failure is not an outage to report)."""
    attempt = current_attempt.get()
    return attempt is not None and attempt.stale


def watch(engine: AsyncEngine) -> None:
    """Let ``engine``'s statements tell the current :class:`Attempt` how they went."""
    event.listen(engine.sync_engine, "after_cursor_execute", _statement_done)
    event.listen(engine.sync_engine, "handle_error", _statement_failed)


class UnitOfWork:
    """One request as a unit of work, for the app's one outer layer
    (:class:`~syllabus.edge.Edge`): run it again, once, if it met a dead pooled
    connection before any statement succeeded. The answer of the failed run (the 503 an
    outage renders) is held back, never sent (the layer's ``send`` asks
    :meth:`holds_back`); the request body, recorded as it was read, is replayed to the
    second run. Only a request that failed that way pays anything more than this object
    and a list append per body chunk."""

    __slots__ = ("answering", "chunks", "first", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.chunks: list[Message] = []
        self.first = Attempt()
        self.answering = False
        """The answer began: it is the answer, whatever happens next."""

    async def recording(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.chunks.append(message)
        return message

    def holds_back(self) -> bool:
        """Whether a message of the answer is the failed run's, never to be sent."""
        if self.first.stale and not self.answering:
            return True
        self.answering = True
        return False

    async def run(self, app: ASGIApp, scope: Scope, send: Send) -> None:
        """Run ``app`` for the request; once more, the body replayed, if it met a dead
        connection first."""
        token = current_attempt.set(self.first)
        try:
            await app(scope, self.recording, send)
        except Exception:
            if not self.first.stale or self.answering:
                raise
        finally:
            current_attempt.reset(token)
        if not self.first.stale or self.answering:
            return
        logger.warning(
            "a pooled PostgreSQL connection was dead (a server restart?): "
            "running %s %s again on a fresh one",
            scope["method"],
            path_as_sent(scope),
        )
        self.answering = True  # the second run's answer is sent, whatever it is
        replay = iter(self.chunks)
        receive = self.receive

        async def replaying() -> Message:
            return next(replay, None) or await receive()

        token = current_attempt.set(Attempt())
        try:
            await app(scope, replaying, send)
        finally:
            current_attempt.reset(token)
