"""FastAPI dependencies shared by every domain, as ``Annotated`` aliases.

The request's SQL session commits once after the route returns and rolls back on any
error, so services never commit and a failed request leaves nothing half-written.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from syllabus.config import Settings
from syllabus.db.sql import Driver, pooled_driver, session_scope


async def get_settings(request: Request) -> Settings:
    # async on purpose: FastAPI runs plain ``def`` dependencies in a thread pool.
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For read-only routes that read ORM rows: autocommit, so a request costs its queries
    and no BEGIN/COMMIT round trips. Never write here."""
    async with request.app.state.read_sessionmaker() as session:
        yield session


async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """For read-only routes: an autocommit Core connection from the pool and no ORM session,
    so a request costs its queries and nothing else: no BEGIN/COMMIT round trips, no unit
    of work, no session or transaction objects (their bookkeeping was about a tenth of the
    outline's profile under wrk, bench/RESULTS.md). Never write here."""
    async with request.app.state.read_engine.connect() as connection:
        yield connection


Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
"""Opens an autocommit Core connection from the pool when called (``async with``)."""


async def get_write_connect(request: Request) -> Connect:
    """For a write that is ONE statement (a server-side function, atomic by itself): an
    autocommit connection, opened only if the route takes that path, so the write costs
    its one round trip and no BEGIN/COMMIT (the lesson progress PUT; a keyed retry of it
    runs in a unit of work instead). Never for two statements that must hold together."""
    engine: AsyncEngine = request.app.state.read_engine  # the pool, in autocommit
    return engine.connect


def read_connection(request: Request) -> AbstractAsyncContextManager[AsyncConnection]:
    """:func:`get_read_connection` for a route that takes no dependency (the hottest
    reads): ``async with read_connection(request) as connection``, closed before the
    response leaves. An override of :func:`get_read_connection` (the tests' isolation,
    tests/isolation.py) is honoured as FastAPI would honour it for the dependency."""
    override = request.app.dependency_overrides.get(get_read_connection)
    if override is not None:
        return asynccontextmanager(override)()
    engine: AsyncEngine = request.app.state.read_engine
    return engine.connect()


@asynccontextmanager
async def write_driver(request: Request) -> AsyncIterator[Driver]:
    """:func:`get_write_connect`'s connection as the driver itself, for a route that takes
    no dependency (the lesson progress PUT's fast path): ``async with
    write_driver(request) as driver``, a pooled connection outside any transaction
    (:func:`~syllabus.db.sql.pooled_driver`). An override of :func:`get_write_connect`
    (tests/isolation.py) is honoured as FastAPI would honour it for the dependency: the
    driver of the connection it opens, inside the test's transaction."""
    override = request.app.dependency_overrides.get(get_write_connect)
    if override is not None:
        async with _overridden_connect(override) as connection:
            yield (await connection.get_raw_connection()).driver_connection
        return
    async with pooled_driver(request.app.state.engine) as driver:
        yield driver


@asynccontextmanager
async def _overridden_connect(
    override: Callable[[], Awaitable[Connect]],
) -> AsyncIterator[AsyncConnection]:
    connect = await override()
    async with connect() as connection:
        yield connection


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work that outlives the request's unit of work (a streamed reply, stored when the
    stream ends): it opens units of work of its own."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_mongo_database(request: Request) -> AsyncDatabase[dict[str, object]]:
    database: AsyncDatabase[dict[str, object]] = request.app.state.mongo_database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (or roll back) before the response leaves, so a client never
# sees success for a write that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
ReadConnectionDep = Annotated[AsyncConnection, Depends(get_read_connection, scope="function")]
WriteConnectDep = Annotated[Connect, Depends(get_write_connect)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
MongoDatabaseDep = Annotated[AsyncDatabase[dict[str, object]], Depends(get_mongo_database)]
