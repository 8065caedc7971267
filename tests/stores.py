"""Where the test suite gets its database servers from, chosen by environment:

- default: throwaway embedded servers (pgserver + the Mongo wire server), nothing needed;
- ``SYLLABUS_TEST_POSTGRES_URL`` / ``SYLLABUS_TEST_MONGO_URL``: existing servers. The
  suite creates (and drops) its own uniquely named database and roles on them, so it
  never touches existing data;
- ``SYLLABUS_TEST_BACKEND=containers``: ``postgres:16`` and ``mongo:8`` (single-node replica
  set) through testcontainers, for machines with Docker.

On every PostgreSQL the suite uses the two roles of a deployment (syllabus.db.roles): the
owner migrates and owns the test databases, the app (DML only) is what the API connects
as. The embedded server has them already (``syllabus dev`` makes the same ones); on
another server they are created with unique names, and dropped at the end.
"""

import asyncio
import contextlib
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg

from syllabus.config import to_libpq_url
from syllabus.db.roles import roles_sql
from syllabus.embedded import APP_ROLE, OWNER_ROLE, embedded_stores

MONGO_IMAGE = "mongo:8"
POSTGRES_IMAGE = "postgres:16"


@dataclass(frozen=True)
class ServerUrls:
    postgres: str
    """A role that may create databases and roles (a superuser here): setting up only."""
    mongo: str
    owner: str
    """The tables' owner (migrations, operators' commands)."""
    app: str
    """The API's role: DML only."""
    password: str | None = None
    """Of both roles, on servers that ask for one."""

    def as_role(self, url: str, role: str) -> str:
        """``url`` (any database of this server) signing in as ``role``."""
        parts = urlsplit(to_libpq_url(url))
        host = parts.netloc.rpartition("@")[2]
        secret = f":{quote(self.password, safe='')}" if self.password else ":"
        return parts._replace(netloc=f"{role}{secret}@{host}").geturl()


async def own_roles(url: str, mongo: str) -> ServerUrls:
    """Roles of this test session's own on a server others may use too (unique names)."""
    stem = f"syllabus_test_{uuid.uuid4().hex[:8]}"
    urls = ServerUrls(url, mongo, f"{stem}_owner", f"{stem}_app", secrets.token_hex(16))
    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        await connection.execute(roles_sql(owner=urls.owner, app=urls.app))
        for role in (urls.owner, urls.app):
            await connection.execute(f"ALTER ROLE \"{role}\" PASSWORD '{urls.password}'")
        await connection.execute(f'GRANT "{urls.app}" TO "{urls.owner}"')  # tests/isolation.py
    finally:
        await connection.close()
    return urls


async def drop_roles(urls: ServerUrls) -> None:
    """Drop them (after their databases: a database left behind keeps its owner)."""
    connection = await asyncpg.connect(to_libpq_url(urls.postgres))
    try:
        for role in (urls.app, urls.owner):
            with contextlib.suppress(asyncpg.PostgresError):
                await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await connection.close()


@contextlib.contextmanager
def roles_on(url: str, mongo: str) -> Iterator[ServerUrls]:
    urls = asyncio.run(own_roles(url, mongo))
    try:
        yield urls
    finally:
        asyncio.run(drop_roles(urls))


@contextlib.contextmanager
def _containers() -> Iterator[ServerUrls]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.postgres import PostgresContainer

    postgres: Any = PostgresContainer(POSTGRES_IMAGE, driver=None)
    mongo: Any = (
        DockerContainer(MONGO_IMAGE)
        .with_command("--replSet rs0 --bind_ip_all")
        .with_exposed_ports(27017)
    )
    with postgres, mongo:
        host, port = mongo.get_container_host_ip(), mongo.get_exposed_port(27017)
        # Advertise the address the tests reach, so drivers can follow the primary.
        config = f"{{_id: 'rs0', members: [{{_id: 0, host: '{host}:{port}'}}]}}"
        deadline = time.monotonic() + 60
        while True:
            code, _ = mongo.exec(["mongosh", "--quiet", "--eval", f"rs.initiate({config})"])
            if code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with roles_on(
            postgres.get_connection_url(), f"mongodb://{host}:{port}/?directConnection=true"
        ) as urls:
            yield urls


@contextlib.contextmanager
def test_servers() -> Iterator[ServerUrls]:
    """Database servers for one test session; stopped (and deleted) when it ends."""
    if os.environ.get("SYLLABUS_TEST_BACKEND") == "containers":
        with _containers() as urls:
            yield urls
        return
    postgres_url = os.environ.get("SYLLABUS_TEST_POSTGRES_URL")
    mongo_url = os.environ.get("SYLLABUS_TEST_MONGO_URL")
    with embedded_stores(
        data_dir=None, need_postgres=postgres_url is None, need_mongo=mongo_url is None
    ) as (embedded_postgres, embedded_mongo):
        mongo = mongo_url or embedded_mongo
        assert mongo is not None
        if postgres_url is not None:
            with roles_on(postgres_url, mongo) as urls:
                yield urls
            return
        assert embedded_postgres is not None
        assert embedded_postgres.superuser is not None
        asyncio.run(_member(embedded_postgres.superuser))
        yield ServerUrls(embedded_postgres.superuser, mongo, OWNER_ROLE, APP_ROLE)


async def _member(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'GRANT "{APP_ROLE}" TO "{OWNER_ROLE}"')  # tests/isolation.py
    finally:
        await connection.close()
