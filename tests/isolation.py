"""How a test keeps its writes to itself: a connection inside a transaction that is rolled
back, sessions that commit to SAVEPOINTs inside it, and the app served on such a session.
The per-test fixtures in conftest.py use these; so does a module that builds one world
and rolls each test back to it (tests/test_access_matrix.py).

The connection signs in as the owner and acts as the app role for the whole transaction
(``SET LOCAL ROLE``; tests/stores.py makes the owner a member of the app role for this),
so the code under test has exactly the app's rights, and a test that needs the owner's
for a moment (a refresh of the analytics views, a trigger of its own) says so with
:func:`as_owner`, in the same transaction. Tests that prove the app role's limits sign
in as it for real (tests/db/test_roles.py)."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from syllabus.content.documents import DOCUMENT_MODELS, CourseContent
from syllabus.db.mongo import init_documents
from syllabus.db.sql import unit_of_work
from syllabus.deps import (
    Connect,
    get_read_connection,
    get_read_session,
    get_session,
    get_sessionmaker,
    get_write_connect,
)
from syllabus.tables import metadata


@asynccontextmanager
async def rolled_back(engine: AsyncEngine, *, role: str) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is always rolled back, acting as ``role``."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(text(f'SET LOCAL ROLE "{role}"'))
            yield connection
        finally:
            await transaction.rollback()


@asynccontextmanager
async def as_owner(connection: AsyncConnection) -> AsyncIterator[None]:
    """The owner's rights for a moment, in the test's transaction (then the app's again)."""
    role = (await connection.execute(text("SELECT current_user"))).scalar_one()
    await connection.execute(text("RESET ROLE"))
    try:
        yield
    finally:
        await connection.execute(text(f'SET LOCAL ROLE "{role}"'))


async def truncate_everything(engine: AsyncEngine) -> None:
    """Empty every table for real (after tests that commit), as the owner, lifting the
    TRUNCATE guards for this one transaction: the way docs/operations.md tells an
    operator to do it on purpose."""
    async with engine.begin() as connection:
        guards = (
            await connection.execute(
                text(
                    "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                    "WHERE NOT tgisinternal AND tgtype & 32 <> 0"  # TRIGGER_TYPE_TRUNCATE
                )
            )
        ).all()
        for table, name in guards:
            await connection.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
        await connection.execute(text(f"TRUNCATE {', '.join(metadata.tables)} CASCADE"))
        for table, name in guards:
            await connection.execute(text(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"'))


def savepoint_session(connection: AsyncConnection) -> AsyncSession:
    """A session whose commits are SAVEPOINTs in the connection's transaction."""
    return AsyncSession(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )


def savepoint_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits land in the connection's transaction, for code that opens
    its own (the content loader)."""
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@contextmanager
def on_session(app: FastAPI, session: AsyncSession) -> Iterator[None]:
    """The app's SQL work lands in ``session``'s transaction while this lasts."""

    async def test_session() -> AsyncIterator[AsyncSession]:
        # What the test wrote before this request counts as committed (a request's
        # rollback must not undo it); then the production unit of work, on SAVEPOINTs.
        await session.commit()
        async with unit_of_work(session) as unit:
            yield unit

    async def test_sessionmaker() -> async_sessionmaker[AsyncSession]:
        connection = session.bind
        assert isinstance(connection, AsyncConnection)
        return savepoint_sessionmaker(connection)

    app.dependency_overrides[get_session] = test_session

    async def test_read_connection() -> AsyncIterator[AsyncConnection]:
        await session.commit()  # what the test wrote before counts as committed
        yield await session.connection()

    async def test_write_connect() -> Connect:
        @asynccontextmanager
        async def connect() -> AsyncIterator[AsyncConnection]:
            await session.commit()  # what the test wrote before counts as committed
            yield await session.connection()

        return connect

    app.dependency_overrides[get_read_session] = test_session
    app.dependency_overrides[get_read_connection] = test_read_connection
    app.dependency_overrides[get_write_connect] = test_write_connect
    app.dependency_overrides[get_sessionmaker] = test_sessionmaker
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.dependency_overrides.pop(get_read_session, None)
        app.dependency_overrides.pop(get_read_connection, None)
        app.dependency_overrides.pop(get_write_connect, None)
        app.dependency_overrides.pop(get_sessionmaker, None)


@asynccontextmanager
async def serving(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app; its SQL work lands in ``session``'s transaction."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with on_session(app, session):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def bind_documents(app: FastAPI) -> AsyncDatabase[dict[str, object]]:
    """The app's Mongo database, with the document classes bound to it. Beanie binds them
    globally: a test that ran another app (health, query counting) may have left them
    bound to its own, now closed, client."""
    database: AsyncDatabase[dict[str, object]] = app.state.mongo_database
    if CourseContent.get_pymongo_collection().database.client is not app.state.mongo_client:
        await init_documents(database, DOCUMENT_MODELS)
    return database


async def empty_documents() -> None:
    for document in DOCUMENT_MODELS:
        await document.get_pymongo_collection().delete_many({})
