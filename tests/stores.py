"""Where the test suite gets its database servers from, chosen by environment:

- default: throwaway embedded servers (pgserver + the Mongo wire server), nothing needed;
- ``SYLLABUS_TEST_POSTGRES_URL`` / ``SYLLABUS_TEST_MONGO_URL``: existing servers. The
  suite creates (and drops) its own uniquely named database on them, so it never touches
  existing data;
- ``SYLLABUS_TEST_BACKEND=containers``: ``postgres:16`` and ``mongo:8`` (single-node replica
  set) through testcontainers, for machines with Docker.
"""

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from syllabus.embedded import embedded_stores

MONGO_IMAGE = "mongo:8"
POSTGRES_IMAGE = "postgres:16"


@dataclass(frozen=True)
class ServerUrls:
    postgres: str
    mongo: str


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
        yield ServerUrls(
            postgres=postgres.get_connection_url(),
            mongo=f"mongodb://{host}:{port}/?directConnection=true",
        )


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
        postgres = postgres_url or embedded_postgres
        mongo = mongo_url or embedded_mongo
        assert postgres is not None
        assert mongo is not None
        yield ServerUrls(postgres=postgres, mongo=mongo)
