"""The SQL-practice sandbox: learners' queries run in PostgreSQL, where they can read a
practice's sample data and nothing else (docs/competencies.md, "SQL sandbox guarantees").

Two roles, made by migration 0034 as the owner (DECISIONS 8):

- :data:`READER_ROLE` (LOGIN, no attributes) is the only role a learner's query ever runs
  as, on connections of its own (``SYLLABUS_SQL_SANDBOX_URL``): it is the *session* user
  there, so ``RESET ROLE``, ``SET ROLE`` or ``set_config('role', …)`` lead nowhere else; it
  has USAGE and SELECT on the sandbox schemas and no privilege on the service's tables.
- :data:`BUILDER_ROLE` (NOLOGIN) owns the sandbox schemas; the app role is a member of it
  (``grant_app``) and takes it (``SET LOCAL ROLE``) only to create a practice's schema.
  Sample data is declared as typed tables and rows, not as SQL: nothing an author writes
  runs as the builder; identifiers and types are checked and quoted here.

A practice's schema is named after its id and a digest of its sample data
(:func:`schema_for`), so it is immutable: a changed practice gets a new schema, a check in
flight never sees a half-written one, and creating it is idempotent
(:meth:`Sandbox.ensure`).

A query runs (:meth:`Sandbox.run`) as ``DECLARE … CURSOR FOR <query>`` through the
extended protocol, so only one statement, and only a query (``SELECT``, ``WITH … SELECT``,
``VALUES``, ``TABLE``), without data-modifying ``WITH``; in a READ ONLY, REPEATABLE READ
transaction that is always rolled back, with ``statement_timeout``, ``lock_timeout`` and
``search_path`` set locally; and only ``max_rows + 1`` rows are fetched.
"""

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

READER_ROLE = "syllabus_sandbox"
BUILDER_ROLE = "syllabus_sandbox_owner"
SCHEMA_PREFIX = "sandbox_"
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""Table and column names of sample data: plain lower-case identifiers."""
MULTI_WORD_TYPES = (
    "double precision",
    "character varying",
    "bit varying",
    "timestamp with time zone",
    "timestamp without time zone",
    "time with time zone",
    "time without time zone",
)
COLUMN_TYPE = re.compile(
    rf"(?:{'|'.join(MULTI_WORD_TYPES)}|[a-z][a-z0-9_]*)(?:\(\d{{1,4}}(?:, ?\d{{1,4}})?\))?(?:\[\])?"
)
"""A column type as written in SQL (``bigint``, ``numeric(12, 2)``, ``timestamptz``,
``double precision``, ``text[]``): one name (or one of SQL's multi-word names), an
optional modifier, array brackets; nothing else (no constraint, no default). PostgreSQL
then says whether the type exists (:meth:`Sandbox.unknown_types`)."""
CURSOR = "learner_query"
DECLARE = f"DECLARE {CURSOR} NO SCROLL CURSOR FOR "

Refusal = Literal["not-a-query", "error", "timeout"]


@dataclass(frozen=True)
class SampleTable:
    """One table of a practice's sample data: columns in order (name, type), rows as
    values in that order (JSON scalars, cast by PostgreSQL to the column types)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class QueryResult:
    """At most ``max_rows`` rows; ``truncated`` when the query had more."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool


class QueryRefused(Exception):
    """The query did not run to its end. ``reason``: not a single query, an error
    PostgreSQL reported (its message, about the learner's own query), or the timeout."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def schema_for(key: str, tables: Sequence[SampleTable]) -> str:
    """The schema of this sample data: ``sandbox_<slug of key>_<digest>`` (≤ 61 chars)."""
    canonical = json.dumps(
        [key, [[t.name, t.columns, t.rows] for t in tables]], default=str, sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "_", key.rpartition(":")[2].lower()).strip("_")[:40]
    return f"{SCHEMA_PREFIX}{slug}_{digest}"


def _quoted(name: str) -> str:
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain lower-case identifier")
    return f'"{name}"'


def _column_type(text: str) -> str:
    if not COLUMN_TYPE.fullmatch(text):
        raise ValueError(f"{text!r} is not a column type")
    return text


def _first_word_position(query: str) -> int:
    """1-based position, in the DECLARE statement, of the learner's first word."""
    return len(DECLARE) + len(query) - len(query.lstrip()) + 1


class Sandbox:
    """The process's sandbox connections: ``reader_url`` signs in as :data:`READER_ROLE`,
    ``builder_url`` as the app role (a member of :data:`BUILDER_ROLE`). Pools open on
    first use and stay small: they are not the service's pool, which a check never uses."""

    def __init__(
        self,
        *,
        reader_url: str,
        builder_url: str,
        timeout_ms: int,
        max_rows: int,
        max_connections: int = 2,
    ) -> None:
        self.reader_url = reader_url
        self.builder_url = builder_url
        self.timeout_ms = timeout_ms
        self.max_rows = max_rows
        self.max_connections = max_connections
        self._pools: dict[str, asyncpg.Pool] = {}
        self._lock = asyncio.Lock()

    async def _pool(self, url: str) -> asyncpg.Pool:
        async with self._lock:
            pool = self._pools.get(url)
            if pool is None:
                pool = await asyncpg.create_pool(
                    url,
                    min_size=0,
                    max_size=self.max_connections,
                    statement_cache_size=0,  # every learner's query is new
                    server_settings={"application_name": "syllabus-sql-sandbox"},
                )
                self._pools[url] = pool
            return pool

    async def close(self) -> None:
        async with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()

    async def unknown_types(self, types: Sequence[str]) -> list[str]:
        """Of these column types, those PostgreSQL does not know (or that are not types
        at all): checked by ``to_regtype``, which parses and never raises."""
        checked = [t for t in dict.fromkeys(types) if COLUMN_TYPE.fullmatch(t)]
        known: set[str] = set()
        if checked:
            pool = await self._pool(self.builder_url)
            async with pool.acquire() as connection:
                rows = await connection.fetch(
                    "SELECT t FROM unnest($1::text[]) AS t WHERE to_regtype(t) IS NOT NULL",
                    checked,
                )
            known = {row["t"] for row in rows}
        return [t for t in dict.fromkeys(types) if t not in known]

    async def ensure(self, schema: str, tables: Sequence[SampleTable]) -> bool:
        """Create ``schema`` with ``tables`` and their rows unless it exists (as the
        builder role, in one transaction: all or nothing); the reader may then read it.
        True when it was created now. Raises ``asyncpg.PostgresError`` (a bad value for
        a column's type) and ``ValueError`` (a bad name or type)."""
        name = _quoted(schema)
        statements: list[tuple[str, list[Any]]] = []
        for table in tables:
            target = f"{name}.{_quoted(table.name)}"
            columns = ", ".join(f"{_quoted(c)} {_column_type(t)}" for c, t in table.columns)
            statements.append((f"CREATE TABLE {target} ({columns})", []))
            if table.rows:
                names = [c for c, _ in table.columns]
                records = [dict(zip(names, row, strict=True)) for row in table.rows]
                statements.append(
                    (
                        f"INSERT INTO {target} SELECT * FROM "  # noqa: S608 - names checked, quoted
                        f"jsonb_populate_recordset(NULL::{target}, $1::jsonb)",
                        [json.dumps(records, default=str)],
                    )
                )
        pool = await self._pool(self.builder_url)
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(f'SET LOCAL ROLE "{BUILDER_ROLE}"')
            # Two processes creating the same schema: the second waits, then finds it.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", schema)
            if await connection.fetchval(
                "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema
            ):
                return False
            await connection.execute(f"CREATE SCHEMA {name}")
            for statement, arguments in statements:
                await connection.execute(statement, *arguments)
            await connection.execute(f'GRANT USAGE ON SCHEMA {name} TO "{READER_ROLE}"')
            await connection.execute(
                f'GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO "{READER_ROLE}"'
            )
        return True

    async def run(self, schema: str, query: str) -> QueryResult:
        """Run ``query`` as the reader with ``schema`` as its search path; raises
        :class:`QueryRefused` for anything but a query that ran to its end."""
        pool = await self._pool(self.reader_url)
        async with pool.acquire() as connection:
            transaction = connection.transaction(isolation="repeatable_read", readonly=True)
            await transaction.start()
            try:
                await connection.execute(
                    "SELECT set_config('statement_timeout', $1, true), "
                    "set_config('lock_timeout', $1, true), "
                    "set_config('idle_in_transaction_session_timeout', $1, true), "
                    "set_config('search_path', $2, true)",
                    f"{self.timeout_ms}ms",
                    _quoted(schema),
                )
                return await self._fetch(connection, query)
            finally:
                # Always rolled back: whatever the query SET goes with it. A connection
                # the query ended (pg_terminate_backend) is left to the pool to replace.
                with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
                    await transaction.rollback()

    async def _fetch(self, connection: asyncpg.Connection, query: str) -> QueryResult:
        try:
            declared = await connection.prepare(DECLARE + query)
            await declared.fetch()
            fetch = await connection.prepare(f"FETCH FORWARD {self.max_rows + 1} FROM {CURSOR}")
            columns = tuple(attribute.name for attribute in fetch.get_attributes())
            rows = [tuple(record) for record in await fetch.fetch()]
        except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError) as error:
            raise QueryRefused("error", "the query ended its own connection") from error
        except asyncpg.QueryCanceledError as error:
            raise QueryRefused(
                "timeout", f"the query ran longer than {self.timeout_ms} ms and was stopped"
            ) from error
        except asyncpg.PostgresSyntaxError as error:
            if "multiple commands" in error.message:
                raise QueryRefused("not-a-query", "send one query, not several") from error
            position = getattr(error, "position", None)
            if position is not None and int(position) == _first_word_position(query):
                raise QueryRefused(
                    "not-a-query",
                    "only a query can be checked: SELECT, WITH … SELECT, VALUES or TABLE",
                ) from error
            raise QueryRefused("error", error.message) from error
        except asyncpg.FeatureNotSupportedError as error:
            raise QueryRefused("not-a-query", error.message) from error
        except asyncpg.PostgresError as error:
            if error.sqlstate.startswith("57"):  # operator intervention: its own backend
                raise QueryRefused("error", "the query ended its own connection") from error
            raise QueryRefused("error", error.message or str(error)) from error
        return QueryResult(
            columns=columns,
            rows=tuple(rows[: self.max_rows]),
            truncated=len(rows) > self.max_rows,
        )
