"""Counting what one request asks of each store: PostgreSQL statements (SQLAlchemy's
``before_cursor_execute``) and MongoDB command names (a PyMongo command listener).

The listener is registered when this module is imported; only Mongo clients created
afterwards see it, hence the fresh ``counted_app`` fixture in ``tests/conftest.py``."""

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


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


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[dict[str, list[str]]]:
    """Statements sent to PostgreSQL (savepoint bookkeeping left out) and Mongo commands."""
    seen: dict[str, list[str]] = {"postgresql": [], "mongodb": []}

    def on_execute(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen["postgresql"].append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    MONGO.commands.clear()
    MONGO.active = True
    try:
        yield seen
    finally:
        MONGO.active = False
        seen["mongodb"] = list(MONGO.commands)
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
