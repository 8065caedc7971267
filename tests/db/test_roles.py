"""The API connects as a role with DML rights only, and the guarantees that rest on it
hold against that role, signed in for real: it cannot TRUNCATE, disable a trigger, delete
from the append-only activity log or change a submitted attempt. The owner migrates, and
the guards stop it too unless it lifts them on purpose. `syllabus db upgrade` grants the
app's rights, on the embedded server and on a second, given server (the machine's own
PostgreSQL on 127.0.0.1:5432, when there is one)."""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from syllabus.config import Settings, to_libpq_url
from syllabus.db import migrate
from syllabus.db.roles import RoleError, grant_app, user_of
from syllabus.embedded import APP_ROLE, OWNER_ROLE, EmbeddedPostgres
from tests.conftest import Database, create_database, drop_database, with_database
from tests.identity.helpers import Account
from tests.stores import ServerUrls, drop_roles, own_roles
from tests.test_cli import run_cli

SECOND_SERVER = os.environ.get(
    "SYLLABUS_TEST_SECOND_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A PostgreSQL other than the suite's, to prove the 'URL given' path (trust auth)."""

FORBIDDEN_TO_THE_APP = {
    "TRUNCATE activity_log": asyncpg.InsufficientPrivilegeError,
    "TRUNCATE quiz_attempts": asyncpg.InsufficientPrivilegeError,
    "TRUNCATE users CASCADE": asyncpg.InsufficientPrivilegeError,
    "ALTER TABLE activity_log DISABLE TRIGGER activity_log_no_delete": (
        asyncpg.InsufficientPrivilegeError
    ),
    "ALTER TABLE quiz_attempts DISABLE TRIGGER USER": asyncpg.InsufficientPrivilegeError,
    "SET session_replication_role = replica": asyncpg.InsufficientPrivilegeError,
    "DELETE FROM activity_log": asyncpg.IntegrityConstraintViolationError,
    "UPDATE quiz_attempts SET score = max_score WHERE submitted_at IS NOT NULL": (
        asyncpg.IntegrityConstraintViolationError
    ),
    "UPDATE quiz_attempts SET submitted_at = NULL": asyncpg.IntegrityConstraintViolationError,
    "DELETE FROM quiz_attempts WHERE submitted_at IS NOT NULL": (
        asyncpg.IntegrityConstraintViolationError
    ),
    "UPDATE activity_log SET verb = 'passed'": asyncpg.IntegrityConstraintViolationError,
    # Result versions (DECISIONS 15): a regrade appends, nothing rewrites or removes one.
    "UPDATE quiz_results SET passed = true": asyncpg.IntegrityConstraintViolationError,
    "DELETE FROM quiz_results": asyncpg.IntegrityConstraintViolationError,
    "TRUNCATE quiz_results": asyncpg.InsufficientPrivilegeError,
    "DROP TABLE activity_log": asyncpg.InsufficientPrivilegeError,
    "CREATE TABLE mine (id int)": asyncpg.InsufficientPrivilegeError,
    "SELECT * FROM alembic_version": asyncpg.InsufficientPrivilegeError,
    "CREATE ROLE someone": asyncpg.InsufficientPrivilegeError,
}


async def _history(connection: asyncpg.Connection) -> None:
    """A learner with one activity row and one submitted attempt, written as the app."""
    user = await connection.fetchval(
        "INSERT INTO users (email, name) VALUES ($1, 'Ada') RETURNING id",
        f"{uuid.uuid4().hex}@example.org",
    )
    await connection.execute(
        "INSERT INTO activity_log (actor_id, verb, object_type, object_id) "
        "VALUES ($1, 'attempted', 'quiz', 'quiz:x')",
        user,
    )
    await connection.execute(
        "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no, submitted_at, score, "
        "max_score, passed) VALUES ($1, 'quiz:x', 1, statement_timestamp(), 1, 2, false)",
        user,
    )


async def refusals(url: str) -> dict[str, str]:
    """Each forbidden statement, as whoever ``url`` signs in as, in a transaction of its
    own that is rolled back: what PostgreSQL said, or ``done`` if it did it."""
    connection = await asyncpg.connect(to_libpq_url(url))
    said: dict[str, str] = {}
    try:
        for statement, refusal in FORBIDDEN_TO_THE_APP.items():
            transaction = connection.transaction()
            await transaction.start()
            try:
                await _history(connection)
                await connection.execute(statement)
                said[statement] = "done"
            except refusal as error:
                said[statement] = type(error).__name__
            finally:
                await transaction.rollback()
        return said
    finally:
        await connection.close()


def _everything_refused(said: dict[str, str]) -> None:
    done = [statement for statement, what in said.items() if what == "done"]
    assert done == [], f"the app's role could: {done}"
    assert said == {s: e.__name__ for s, e in FORBIDDEN_TO_THE_APP.items()}


async def test_the_app_role_can_do_none_of_what_the_guarantees_forbid(settings: Settings) -> None:
    assert settings.postgres_url is not None
    _everything_refused(await refusals(settings.postgres_url))


async def test_the_api_signs_in_as_the_app_role_which_owns_nothing(
    app: FastAPI, servers: ServerUrls
) -> None:
    async with app.state.engine.connect() as connection:
        me = (
            await connection.execute(
                text(
                    "SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
                    "r.rolbypassrls, (SELECT count(*) FROM pg_class c "
                    "  WHERE c.relowner = r.oid) AS owned "
                    "FROM pg_roles r WHERE r.rolname = current_user"
                )
            )
        ).one()
    assert tuple(me) == (servers.app, False, False, False, False, 0)


async def test_the_guards_stop_the_owner_too_until_it_lifts_them_on_purpose(
    settings: Settings,
) -> None:
    assert settings.postgres_owner_url is not None
    owner = await asyncpg.connect(to_libpq_url(settings.postgres_owner_url))
    try:
        for statement in (
            "DELETE FROM activity_log",
            "TRUNCATE activity_log",
            "TRUNCATE quiz_attempts CASCADE",  # with its result versions
            "TRUNCATE quiz_results",
            "TRUNCATE users CASCADE",  # would cascade to all of them
        ):
            async with owner.transaction():
                await _history(owner)
                with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="refused"):
                    await owner.execute(statement)
        transaction = owner.transaction()
        await transaction.start()
        try:  # the documented way: lift the guard in one transaction, on purpose
            await _history(owner)
            await owner.execute("ALTER TABLE activity_log DISABLE TRIGGER activity_log_no_delete")
            assert await owner.execute("DELETE FROM activity_log") != "DELETE 0"
        finally:
            await transaction.rollback()
    finally:
        await owner.close()


async def test_erasure_works_as_the_app_role(
    live_client: httpx.AsyncClient, live_learner: Account, app: FastAPI
) -> None:
    """What erasure deletes (sign-in attempts, idempotency keys) the app may delete; the
    activity log and attempts stay, pseudonymous."""
    erased = await live_client.delete("/api/v1/users/me", headers=live_learner.headers)
    assert erased.status_code == 204, erased.text
    async with app.state.engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT u.email, (SELECT count(*) FROM activity_log WHERE actor_id = u.id) "
                    "FROM users u WHERE u.id = :u"
                ),
                {"u": live_learner.id},
            )
        ).one()
    assert row[0].endswith("@erased.invalid")
    assert row[1] >= 2  # registered, enrolled: kept


async def test_granting_the_app_role_refuses_a_superuser_and_the_owner(
    engine: AsyncEngine, servers: ServerUrls
) -> None:
    superuser = user_of(servers.postgres)
    assert superuser is not None
    for role, reason in ((superuser, "superuser"), (servers.owner, "owner")):
        async with engine.connect() as owner:
            with pytest.raises(RoleError, match=reason):
                await grant_app(owner, role)


def test_prod_runs_owner_commands_only_with_the_owner_url(tmp_path: Path) -> None:
    app = "postgresql://syllabus_app:secret@db:5432/syllabus"
    missing = run_cli("db", "upgrade", cwd=tmp_path, SYLLABUS_ENV="prod", SYLLABUS_POSTGRES_URL=app)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: SYLLABUS_POSTGRES_OWNER_URL: required when")


@contextlib.asynccontextmanager
async def two_roles_on(server: str) -> AsyncIterator[tuple[Database, ServerUrls]]:
    """A database and the two roles on ``server``, as a DBA would provision them; all
    dropped afterwards."""
    name = f"syllabus_roles_{uuid.uuid4().hex[:8]}"
    urls = await own_roles(server, mongo="")
    try:
        database = await create_database(urls, name)
        try:
            yield database, urls
        finally:
            await drop_database(server, name)
    finally:
        await drop_roles(urls)


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(to_libpq_url(url), timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def test_db_upgrade_with_a_given_url_grants_the_app_role_on_a_second_server(
    tmp_path: Path,
) -> None:
    """The 'URL given' path, on another PostgreSQL than the suite's (the machine's own on
    127.0.0.1:5432, or SYLLABUS_TEST_SECOND_POSTGRES_URL): skipped where there is none."""
    if not await _answers(SECOND_SERVER):
        pytest.skip(f"no second PostgreSQL answers at {SECOND_SERVER}")
    async with two_roles_on(SECOND_SERVER) as (database, urls):
        settings = {
            "SYLLABUS_ENV": "prod",
            "SYLLABUS_POSTGRES_URL": database.app,
            "SYLLABUS_POSTGRES_OWNER_URL": database.owner,
        }
        upgraded = await asyncio.to_thread(run_cli, "db", "upgrade", cwd=tmp_path, **settings)
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"{urls.app}: SELECT, INSERT, UPDATE, DELETE on" in upgraded.stderr
        _everything_refused(await refusals(database.app))
        refused = await asyncio.to_thread(
            run_cli, "analytics", "grant", urls.app, cwd=tmp_path, **settings
        )
        assert refused.returncode == 2, refused.stdout
        assert "one of the service's own roles" in refused.stderr


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="syl-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_dev_database_from_before_the_roles_is_handed_to_the_owner(
    short_tmp: Path,
) -> None:
    """`.data/pg` made by an earlier version: one database, everything owned by the
    superuser. The next start hands every object to the owner, and migrating and serving
    go on as the two roles."""
    server = EmbeddedPostgres(short_tmp / "pg", after_use="delete")
    urls = server.start()
    assert urls.superuser is not None
    try:
        superuser = await asyncpg.connect(with_database(urls.superuser, "postgres"))
        try:
            await superuser.execute("DROP DATABASE syllabus")
            await superuser.execute("CREATE DATABASE syllabus")  # the superuser's, as before
        finally:
            await superuser.close()
        old = with_database(urls.superuser, "syllabus")
        await asyncio.to_thread(migrate.upgrade, url=old, revision="0008")
        EmbeddedPostgres(short_tmp / "pg").start()  # what the next `syllabus dev` does
        await asyncio.to_thread(migrate.upgrade, url=urls.owner, app_role=APP_ROLE)
        owner = await asyncpg.connect(urls.owner)
        try:
            foreign = await owner.fetch(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'analytics') AND c.relowner <> $1::regrole",
                OWNER_ROLE,
            )
            assert foreign == []
        finally:
            await owner.close()
        _everything_refused(await refusals(urls.app))
    finally:
        server.stop()


async def test_the_suite_database_was_migrated_by_the_owner(
    servers: ServerUrls, database: Database
) -> None:
    """Not by a superuser: what production's owner can do is what the migrations need."""
    owner = await asyncpg.connect(to_libpq_url(database.owner))
    try:
        assert not await owner.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        assert (
            await owner.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> $1",
                servers.owner,
            )
            == 0
        )
    finally:
        await owner.close()
