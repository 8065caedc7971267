"""Counting what one request asks of each store: PostgreSQL statements (SQLAlchemy's
``before_cursor_execute``, and asyncpg's query logger for a statement sent to the driver
itself, db/sql.py ``pooled_driver``) and MongoDB command names (a PyMongo command
listener). SQLAlchemy runs its statements as asyncpg prepared statements, which asyncpg
does not log, so neither count sees the other's.

The listeners are registered when this module is imported; only Mongo clients and
PostgreSQL connections created afterwards see them, hence the fresh ``counted_app``
fixture in ``tests/conftest.py``."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asyncpg.connection import LoggedQuery
from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool


class Counter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.active = False
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


MONGO = Counter()
monitoring.register(MONGO)  # only clients created after this see it: see counted_app


class DriverCounter:
    """asyncpg's query logger on every new pooled connection: the statements a request
    sent to the driver itself (asyncpg calls it soon after each one: ``call_soon``, so
    :func:`counting` lets the loop run once before it stops listening)."""

    def __init__(self) -> None:
        self.active = False
        self.statements: list[str] = []

    def __call__(self, record: LoggedQuery) -> None:
        if self.active:
            self.statements.append(record.query)


DRIVER = DriverCounter()


@event.listens_for(Pool, "connect")
def _log_driver_statements(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.driver_connection.add_query_logger(DRIVER)


@asynccontextmanager
async def counting(engine: AsyncEngine) -> AsyncIterator[dict[str, list[str]]]:
    """Statements sent to PostgreSQL (savepoint bookkeeping left out) and Mongo commands."""
    seen: dict[str, list[str]] = {"postgresql": [], "mongodb": []}

    def on_execute(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen["postgresql"].append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    await asyncio.sleep(0)  # the loggers of statements before this block run first
    MONGO.commands.clear()
    DRIVER.statements.clear()
    MONGO.active = DRIVER.active = True
    try:
        yield seen
    finally:
        await asyncio.sleep(0)  # the driver's loggers of this block's statements run
        MONGO.active = DRIVER.active = False
        seen["mongodb"] = list(MONGO.commands)
        seen["postgresql"] += DRIVER.statements
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
