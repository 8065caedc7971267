"""Refreshing the materialized twins of the ``analytics`` views that are too slow to
read live (docs/analytics.md, "At scale"). CONCURRENTLY, so analysts keep reading the
previous contents while a refresh runs; each twin has the unique index that needs."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


class RefreshError(ValueError):
    """A name that is not a materialized view of the ``analytics`` schema."""


@dataclass(frozen=True)
class Refreshed:
    """One refreshed view and how long its refresh took."""

    name: str
    seconds: float


async def materialized(connection: asyncpg.Connection) -> dict[str, bool]:
    """Every materialized view of ``analytics``, by name, and whether it holds data (a
    view never populated cannot be refreshed CONCURRENTLY: its first refresh is plain)."""
    rows = await connection.fetch(
        "SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = 'analytics' "
        "ORDER BY matviewname"
    )
    return {row["matviewname"]: row["ispopulated"] for row in rows}


async def refresh(connection: asyncpg.Connection, *, names: Sequence[str] = ()) -> list[Refreshed]:
    """Refresh ``names`` (all of them when empty), one after another, each timed. Names
    are checked against the catalog before any refresh starts."""
    known = await materialized(connection)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise RefreshError(
            f"not a materialized view of analytics: {', '.join(unknown)}; "
            f"try one of: {', '.join(known) or '(none)'}"
        )
    done = []
    for name in dict.fromkeys(names) or known:
        mode = "CONCURRENTLY " if known[name] else ""
        began = time.perf_counter()
        await connection.execute(f'REFRESH MATERIALIZED VIEW {mode}analytics."{name}"')
        done.append(Refreshed(name, time.perf_counter() - began))
    return done
