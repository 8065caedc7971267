"""Crash consistency, with the service as a real process: learners stream keyed progress
writes and quiz attempts (start, submit) from concurrent clients; the server is killed
(SIGKILL), or its PostgreSQL restarted, mid-stream; then every request is retried with
its key and body. Nothing is lost, nothing is done twice, and every answer given before
the interruption is replayed byte for byte."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.crash.harness import (
    Run,
    Service,
    Stores,
    broken_invariants,
    learners,
    own_stores,
    retry_everything,
    running,
    stream_until,
)
from tests.stores import ServerUrls

LEARNERS = 8
INTERRUPT_AFTER = 70
"""Answers before the interruption: about 40 % of the 8 × 24 requests planned."""
OUTAGE_WAIT_SECONDS = 15.0
"""A request during the outage is answered within this (httpx raises past it)."""


def report(run: Run, problems: list[str], service: Service) -> str:
    return (
        f"{run}; all {run.sent} retried; {len(problems)} problems:\n"
        + "\n".join(problems[:10])
        + f"\nservice log:\n{service.log_tail()}"
    )


@pytest.fixture
def stores(servers: ServerUrls) -> Iterator[Stores]:
    with own_stores(servers.mongo) as stores:
        yield stores


async def test_sigkill_mid_stream_then_retries_lose_and_repeat_nothing(stores: Stores) -> None:
    async with running(stores) as service:
        crowd = await learners(service, LEARNERS)

        async def kill() -> None:
            service.kill()

        run = await stream_until(service, crowd, threshold=INTERRUPT_AFTER, interrupt=kill)
        assert run.unanswered >= 1, f"nothing was in flight at the kill: {run}"
        assert run.refused == {}, f"refusals before the kill: {run}"
        await service.start()  # the same port, a new process
        problems = await retry_everything(service, crowd)
        assert problems == [], report(run, problems, service)
        broken = await broken_invariants(stores, crowd)
        assert broken == [], report(run, broken, service)


async def test_postgres_restart_mid_stream_is_503_then_recovers_without_a_restart(
    stores: Stores,
) -> None:
    async with running(stores) as service:
        assert service.process is not None
        pid = service.process.pid
        crowd = await learners(service, LEARNERS)
        outage: dict[str, httpx.Response] = {}

        async def stop_postgres() -> None:
            """Stop it (fast shutdown: sessions are cut), then ask while it is down."""
            await asyncio.to_thread(stores.postgres.stop)
            async with httpx.AsyncClient(base_url=service.url, timeout=OUTAGE_WAIT_SECONDS) as http:
                outage["ready"] = await http.get("/health/ready")
                outage["write"] = await http.put(
                    "/api/v1/progress/lessons/lesson:crash-intro",
                    json={"status": "started"},
                    headers=crowd[0].headers("crash-outage-probe"),
                )

        run = await stream_until(service, crowd, threshold=INTERRUPT_AFTER, interrupt=stop_postgres)

        ready = outage["ready"]
        assert ready.status_code == 503, ready.text
        assert ready.json()["failing"] == ["postgresql"]
        write = outage["write"]
        assert write.status_code == 503, write.text
        assert write.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert write.headers["retry-after"].isdigit()
        assert set(run.refused) <= {503}, report(
            run, ["only 503 while PostgreSQL is down"], service
        )
        assert run.refused, f"no request met the outage: {run}"
        unanswered = [r for learner in crowd for r in learner.sent if r.status is None]
        assert unanswered == [], f"the live server left requests unanswered: {run}"
        refusals = [r for learner in crowd for r in learner.sent if r.status == 503]
        assert all(r.content_type == PROBLEM_MEDIA_TYPE and r.retry_after for r in refusals)

        await asyncio.to_thread(stores.postgres.start)
        await service.wait_ready()
        assert service.process.pid == pid  # recovered by itself: the same process
        assert service.process.poll() is None
        problems = await retry_everything(service, crowd)
        assert problems == [], report(run, problems, service)
        broken = await broken_invariants(stores, crowd)
        assert broken == [], report(run, broken, service)
