"""Sign-in throughput, and whether a burst of sign-ins slows everyone else down
(argon2id must stay off the event loop).

Alternated A B for ROUNDS rounds against one service process (one uvicorn worker):
  A (quiet): ``/health/ready`` probed open-loop at RATE per second; nothing else.
  B (burst): the same probe while CONCURRENCY clients sign in back to back.
Reported: latency percentiles of the probe, p99 B/A (goal <= 1.3), sign-ins per second.
"""

import asyncio
import time
from typing import Any

import httpx

from bench.dataset import Dataset
from bench.harness import (
    Load,
    Requests,
    Servers,
    client,
    open_loop,
    percentiles,
    summary,
)

PASSWORD = "benchmark password"
RATE = 50.0
PROBE: Requests = [("/health/ready", {})]


async def _sign_in_loop(
    http: httpx.AsyncClient, emails: list[str], stop: asyncio.Event, done: list[float]
) -> None:
    index = 0
    while not stop.is_set():
        response = await http.post(
            "/api/v1/auth/login", json={"email": emails[index % len(emails)], "password": PASSWORD}
        )
        response.raise_for_status()
        index += 1
        done.append(time.perf_counter())


async def login_burst(
    data: Dataset, load: Load, servers: Servers, *, concurrency: int = 8
) -> dict[str, Any]:
    async with client(servers.service.url, load) as http:
        emails = [f"burst-{n}@example.org" for n in range(concurrency * 4)]
        for email in emails:
            created = await http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "name": "Bench"},
            )
            created.raise_for_status()
        await open_loop(http, PROBE, rate=RATE, seconds=load.warmup_seconds)  # warm up
        quiet: list[list[float]] = []
        burst: list[list[float]] = []
        throughput: list[float] = []
        for _ in range(load.rounds):
            quiet.append(await open_loop(http, PROBE, rate=RATE, seconds=load.latency_seconds))
            stop = asyncio.Event()
            done: list[float] = []
            loops = [
                asyncio.create_task(_sign_in_loop(http, emails[i::concurrency], stop, done))
                for i in range(concurrency)
            ]
            await asyncio.sleep(0.5)  # let the burst reach steady state
            started, before = time.perf_counter(), len(done)
            burst.append(await open_loop(http, PROBE, rate=RATE, seconds=load.latency_seconds))
            throughput.append((len(done) - before) / (time.perf_counter() - started))
            stop.set()
            await asyncio.gather(*loops)
    latency = {"service": percentiles(burst), "baseline": percentiles(quiet)}
    return {
        "rounds": load.rounds,
        "probe_rate_per_second": RATE,
        "concurrency": concurrency,
        "latency_ms": latency,
        "ratio_p99": latency["service"]["p99"]["median"] / latency["baseline"]["p99"]["median"],
        "logins_per_second": summary(throughput),
        "goals": {"ratio_p99": "<= 1.3"},
    }
