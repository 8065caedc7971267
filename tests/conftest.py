"""Session-wide real servers, the real migrations, and per-test isolation.

- PostgreSQL: one database per test session, owned by the owner role and migrated with
  Alembic as it, the app role given its rights as ``syllabus db upgrade`` does; the app
  (``settings.postgres_url``) connects as the app role. Each test runs inside an outer
  transaction on one connection that is rolled back afterwards, as the app role (see
  tests/isolation.py); the code under test commits to SAVEPOINTs inside it
  (``join_transaction_mode="create_savepoint"``).
- MongoDB: one database per test session; collections are emptied around each test.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

import tests.querycount  # noqa: F401 - registers the Mongo listener before any app exists
from syllabus.config import Settings, to_asyncpg_url, to_libpq_url
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from syllabus.db.sql import create_engine
from syllabus.main import create_app, wire
from tests.ai.fixtures import model_server, tutor  # noqa: F401 - fixtures for every test
from tests.content.folder import add_framework, make_folder
from tests.exams.conftest import load, write_exams
from tests.identity.helpers import Account, set_role, sign_up
from tests.isolation import (
    bind_documents,
    empty_documents,
    on_session,
    rolled_back,
    savepoint_session,
    savepoint_sessionmaker,
    serving,
    truncate_everything,
)
from tests.learning.helpers import enroll
from tests.probe import probed
from tests.stores import ServerUrls, test_servers

TEST_JWT_SECRET = "test-secret-" + "x" * 32
PUBLIC_BASE_URL = "https://learn.example/syllabus"
"""What the test app's absolute links start with (a path prefix, as behind a proxy)."""

MANY_ACCOUNTS: dict[str, int] = {
    "signup_max_per_address": 100_000,
    "signup_max_per_email": 1_000,
    "password_work_max_pending": 1_000,
    "password_work_max_per_address": 1_000,
}
"""Throttles lifted for a suite that signs up thousands of accounts from one address
(every ASGI test client is 127.0.0.1), many in parallel (DECISIONS 9); the tests of the
throttles set their own small limits (tests/identity/helpers.py ``limits``)."""

wire()  # the hooks, as the API and CLI register them: tests load content without either


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (keeps unix-socket hosts)."""
    return to_libpq_url(
        make_url(to_asyncpg_url(url)).set(database=database).render_as_string(hide_password=False)
    )


@dataclass(frozen=True)
class Database:
    """One database, as each of the two roles signs in to it."""

    owner: str
    app: str


async def create_database(servers: ServerUrls, name: str, *, owned: bool = True) -> Database:
    """A new database, owned by the owner role (``owned=False``: by the server's
    superuser, as a single-role setup before the roles had it)."""
    connection = await asyncpg.connect(to_libpq_url(servers.postgres))
    try:
        owner = f' OWNER "{servers.owner}"' if owned else ""
        await connection.execute(f'CREATE DATABASE "{name}"{owner}')
    finally:
        await connection.close()
    url = with_database(servers.postgres, name)
    return Database(
        owner=servers.as_role(url, servers.owner), app=servers.as_role(url, servers.app)
    )


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(to_libpq_url(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def migrated_database(servers: ServerUrls, name: str) -> Database:
    """A new database at head, the app role granted its rights: ``syllabus db upgrade``."""
    database = await create_database(servers, name)
    await asyncio.to_thread(migrate.upgrade, url=database.owner, app_role=servers.app)
    return database


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerUrls]:
    with test_servers() as urls:
        yield urls


@pytest.fixture(scope="session")
async def database(servers: ServerUrls) -> AsyncIterator[Database]:
    """A fresh, fully migrated database for this test session."""
    name = f"syllabus_test_{uuid.uuid4().hex[:10]}"
    yield await migrated_database(servers, name)
    await drop_database(servers.postgres, name)


@pytest.fixture
async def scratch_database(servers: ServerUrls) -> AsyncIterator[str]:
    """An empty database of its own, for tests that migrate or commit for real; the URL
    signs in as the server's superuser (one role for everything, as a developer's own
    server would)."""
    name = f"syllabus_scratch_{uuid.uuid4().hex[:8]}"
    await create_database(servers, name, owned=False)
    yield with_database(servers.postgres, name)
    await drop_database(servers.postgres, name)


@pytest.fixture
async def stores(scratch_database: str, servers: ServerUrls) -> AsyncIterator[dict[str, str]]:
    """A migrated database and a Mongo database of their own, committed for real, as
    the settings a ``syllabus`` process is given."""
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    name = f"syllabus_cli_{uuid.uuid4().hex[:8]}"
    yield {
        "SYLLABUS_POSTGRES_URL": scratch_database,
        "SYLLABUS_MONGO_URL": servers.mongo,
        "SYLLABUS_MONGO_DB": name,
    }
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongo)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture(scope="session")
def settings(servers: ServerUrls, database: Database) -> Settings:
    return Settings(
        _env_file=None,
        env="test",
        postgres_url=database.app,
        postgres_owner_url=database.owner,
        mongo_url=servers.mongo,
        mongo_db=f"syllabus_test_{uuid.uuid4().hex[:10]}",
        jwt_secret=TEST_JWT_SECRET,
        public_base_url=PUBLIC_BASE_URL,
        exam_sweep_seconds=0,  # tests seal on purpose (tests/exams), not in the background
    ).model_copy(update=MANY_ACCOUNTS)


@pytest.fixture(scope="session")
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    """Signs in as the owner: a test connection acts as the app role (``connection``)
    and takes the owner's rights back only where a test says so (``as_owner``)."""
    engine = create_engine(to_asyncpg_url(database.owner), pool_size=3, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine, servers: ServerUrls) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is always rolled back, as the app role."""
    async with rolled_back(engine, role=servers.app) as connection:
        yield connection


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    session = savepoint_session(connection)
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """One application for the session, its lifespan (engine, Mongo, Beanie) really run."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await application.state.mongo_client.drop_database(settings.mongo_db)


@pytest.fixture
async def mongo(app: FastAPI) -> AsyncIterator[AsyncDatabase[dict[str, object]]]:
    """The session's Mongo database, with every content collection emptied around the test."""
    database = await bind_documents(app)
    await empty_documents()
    yield database
    await empty_documents()


@pytest.fixture
async def live_client(app: FastAPI, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its real sessions: every request commits, so concurrent requests
    really race in PostgreSQL. The tables are emptied afterwards."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await truncate_everything(engine)


@pytest.fixture
async def live_loaded(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
) -> Path:
    """The test folder, with a competency framework, loaded for real (committed), for
    tests on ``live_client``."""
    add_framework(folder)
    assert (await load_folder(folder, database=mongo, sessionmaker=app.state.sessionmaker)).ok
    return folder


@pytest.fixture
async def journey_loaded(
    live_loaded: Path,
    app: FastAPI,
    mongo: AsyncDatabase[dict[str, object]],
) -> Path:
    """``live_loaded`` with the exams of tests/exams (the journey, tests/journey.py, sits
    the free one)."""
    await load(write_exams(live_loaded), mongo, app.state.sessionmaker)
    return live_loaded


@pytest.fixture
async def live_learner(live_client: httpx.AsyncClient, live_loaded: Path) -> Account:
    """A learner signed up on ``live_client`` and enrolled in the free course."""
    account = await sign_up(live_client)
    await enroll(live_client, account, "course:rest-basics")
    return account


@pytest.fixture
async def client(
    app: FastAPI, session: AsyncSession, mongo: AsyncDatabase[dict[str, object]]
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app; its SQL work lands in the test's rolled-back transaction."""
    async with serving(app, session) as http:
        yield http


@pytest.fixture
async def counted_app(settings: Settings, session: AsyncSession) -> AsyncIterator[FastAPI]:
    """A fresh app (so its Mongo client carries the counter, see tests/querycount.py) on
    the test's session."""
    app = create_app(settings)
    with on_session(app, session):
        async with app.router.lifespan_context(app):
            yield app


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with routes that fail on purpose (tests/probe.py), no stores opened."""
    async with probed(settings) as http:
        yield http


@pytest.fixture
async def learner(client: httpx.AsyncClient) -> Account:
    return await sign_up(client)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await set_role(session, account, "admin")
    return account


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A small valid content folder (see tests/content/folder.py)."""
    return make_folder(tmp_path / "content")


@pytest.fixture
def catalog_sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits land in the test's rolled-back transaction."""
    return savepoint_sessionmaker(connection)


@pytest.fixture
async def loaded(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    """The small folder, loaded into both stores for this test."""
    result = await load_folder(
        folder,
        database=mongo,
        sessionmaker=catalog_sessions,
    )
    assert result.ok, result.problems
    return folder
