"""After PostgreSQL restarts, the connections the service's pool kept are dead. The first
request on each of them used to be a 503; now the unit of work that met a dead connection
before any of its statements succeeded is run again, once, on a fresh one, so no request
fails (DECISIONS 10), and the happy path pays nothing for it (no ping per checkout)."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.crash.harness import (
    LESSONS,
    REQUEST_TIMEOUT,
    Learner,
    Stores,
    learners,
    own_stores,
    running,
)
from tests.stores import ServerUrls

CROWD = 6
ROUNDS = 2
"""Requests per learner while warming up: enough at once to open several pooled connections."""


@pytest.fixture
def stores(servers: ServerUrls) -> Iterator[Stores]:
    with own_stores(servers.mongo) as stores:
        yield stores


async def _everyone(
    http: httpx.AsyncClient, crowd: list[Learner], round_: int
) -> list[httpx.Response]:
    """Each learner at once: a read (autocommit session), an unkeyed write (the fast
    path's statement on the driver itself, db/sql.py ``pooled_driver``) and a keyed one."""
    requests = []
    for learner in crowd:
        requests.append(http.get("/api/v1/users/me/progress", headers=learner.headers()))
        requests.append(
            http.put(
                f"/api/v1/progress/lessons/{LESSONS[round_]}",
                json={"status": "started"},
                headers=learner.headers(),
            )
        )
        requests.append(
            http.put(
                f"/api/v1/progress/lessons/{LESSONS[round_]}",
                json={"status": "started"},
                headers=learner.headers(f"reconnect-{round_}-{learner.account.id}"),
            )
        )
    return list(await asyncio.gather(*requests))


async def test_no_request_fails_after_a_postgresql_restart(stores: Stores) -> None:
    async with running(stores) as service:
        crowd = await learners(service, CROWD)
        async with httpx.AsyncClient(base_url=service.url, timeout=REQUEST_TIMEOUT) as http:
            for round_ in range(ROUNDS):
                warm = await _everyone(http, crowd, round_)
                assert all(r.is_success for r in warm), [r.text for r in warm]
            await asyncio.to_thread(stores.postgres.stop)  # fast shutdown: sessions are cut
            await asyncio.to_thread(stores.postgres.start)
            # Alone first: the fast path's statement, sent to the driver itself, is the
            # first to meet a dead connection, and runs again on a fresh one.
            alone = await http.put(
                f"/api/v1/progress/lessons/{LESSONS[ROUNDS]}",
                json={"status": "started"},
                headers=crowd[0].headers(),
            )
            assert alone.status_code == 200, alone.text
            after = await _everyone(http, crowd, ROUNDS)
            failed = [(r.request.method, r.request.url.path, r.status_code) for r in after]
            assert all(r.is_success for r in after), failed
            ready = await http.get("/health/ready")
            assert ready.status_code == 200, ready.text
            again = await _everyone(http, crowd, ROUNDS)  # the keyed writes replay
            assert [r.content for r in again[2::3]] == [r.content for r in after[2::3]]
        log = service.log.read_text(errors="replace")  # all of it: the warning is early
    assert "was dead (a server restart?): running" in log, log  # the path was taken
    assert "store unavailable" not in log, log
    assert "Traceback" not in log, log
