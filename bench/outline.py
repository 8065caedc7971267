"""Outline with my progress, and the ASGI server it runs under.

1. ``outline``: ``GET /api/v1/courses/{slug}/outline`` as an enrolled learner (A) vs
   bench/baseline_app.py (B): bare Starlette + asyncpg + PyMongo running the same SQL
   statement and the same MongoDB read and returning the same bytes (50 responses are
   compared first). One uvicorn worker each. Goals: throughput A/B >= 0.8; p99 at 50 % of
   B's peak, A/B <= 1.3. Also the peak RSS of the service's worker under this load,
   against the baseline's.
2. ``asgi_servers``: the same outline requests served by uvicorn (A) and granian (B), with
   1 and then 2 workers. Switch only for >= 1.15x throughput at equal p99.
"""

import random
import statistics
import uuid
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx

from bench import wrk
from bench.dataset import Dataset
from bench.harness import (
    SECRET,
    SERVICE,
    Load,
    Requests,
    Servers,
    alternate,
    client,
    peak_rss_mib,
    server,
    service_env,
)
from syllabus.identity.security import create_access_token


def bearer(user: str) -> dict[str, str]:
    token = create_access_token(
        user_id=uuid.UUID(user), role="student", secret=SECRET, lifetime=timedelta(hours=3)
    )
    return {"Authorization": f"Bearer {token}"}


def sample(data: Dataset, *, seed: int, size: int = 2000) -> list[tuple[str, str]]:
    """Random (learner, enrolled course slug) pairs, the same for both sides."""
    return random.Random(seed).sample(data.enrolled, min(size, len(data.enrolled)))


def outline_requests(data: Dataset) -> tuple[Requests, Requests]:
    pairs = sample(data, seed=7)
    headers = {user: bearer(user) for user, _ in pairs}
    service = [(f"/api/v1/courses/{slug}/outline", headers[user]) for user, slug in pairs]
    baseline = [(f"/outline/{slug}", headers[user]) for user, slug in pairs]
    return service, baseline


async def _same_bytes(
    a: httpx.AsyncClient, b: httpx.AsyncClient, service: Requests, baseline: Requests
) -> int:
    same = 0
    for (a_path, headers), (b_path, _) in zip(service[:50], baseline[:50], strict=True):
        ra, rb = await a.get(a_path, headers=headers), await b.get(b_path, headers=headers)
        assert ra.status_code == rb.status_code == 200, (ra.text, rb.text)
        assert ra.json() == rb.json(), (ra.text[:300], rb.text[:300])
        same += ra.content == rb.content
    return same


async def outline(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    """Run first on fresh servers, so each worker's high-water RSS is this load's peak."""
    service_requests, baseline_requests = outline_requests(data)
    async with client(servers.service.url, load) as a, client(servers.baseline.url, load) as b:
        same = await _same_bytes(a, b, service_requests, baseline_requests)
        measured = await alternate((a, service_requests), (b, baseline_requests), load=load)
    rss = {
        "service": peak_rss_mib(servers.service.pid),
        "baseline": peak_rss_mib(servers.baseline.pid),
    }
    return {
        **measured,
        "identical_bytes_of_50": same,
        "worker_peak_rss_mib": {**rss, "ratio": rss["service"] / rss["baseline"]},
        "goals": {"ratio_throughput": ">= 0.8", "ratio_p99": "<= 1.3"},
    }


async def asgi_servers(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    env = service_env(data.postgres_url, data.mongo_url)
    requests, _ = outline_requests(data)
    result: dict[str, Any] = {"service": "uvicorn", "baseline": "granian"}
    for workers in (1, 2):
        with ExitStack() as stack:
            uvicorn = (
                servers.service
                if workers == 1
                else stack.enter_context(
                    server(SERVICE, env, ready_path="/health/live", workers=workers)
                )
            )
            granian = stack.enter_context(
                server(SERVICE, env, ready_path="/health/live", workers=workers, engine="granian")
            )
            async with client(uvicorn.url, load) as a, client(granian.url, load) as b:
                result[f"workers_{workers}"] = await alternate(
                    (a, requests), (b, requests), load=load
                )
    return result


def _peaks(
    urls: dict[str, str], requests: dict[str, Requests], *, load: Load, seconds: float
) -> dict[str, Any]:
    """wrk rounds, the two sides alternated (and which goes first, too), 16 connections."""
    runs: dict[str, list[wrk.WrkResult]] = {side: [] for side in urls}
    for round_no in range(load.rounds):
        order = list(urls) if round_no % 2 == 0 else list(reversed(urls))
        for side in order:
            runs[side].append(
                wrk.run(urls[side], requests[side], seconds=seconds, connections=load.concurrency)
            )

    def median(side: str, field: str) -> float:
        return float(statistics.median(getattr(run, field) for run in runs[side]))

    result: dict[str, Any] = {
        side: {
            "peak_rps": median(side, "requests_per_second"),
            "peak_rps_min_max": [
                min(r.requests_per_second for r in runs[side]),
                max(r.requests_per_second for r in runs[side]),
            ],
            "p99_ms_closed_loop": median(side, "p99_ms"),
            "errors": sum(r.errors + r.non2xx for r in runs[side]),
            "generator_cpu_share": statistics.median(
                r.generator_cpu_seconds / r.seconds for r in runs[side]
            ),
        }
        for side in urls
    }
    service, baseline = list(urls)
    result["ratio_peak"] = result[service]["peak_rps"] / result[baseline]["peak_rps"]
    return result


async def outline_peak(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    """The outline's peak by wrk (C, pinned to its own core where there are two or more)
    against the bare baseline, same servers and requests as ``outline``; the service's
    content cache is warm after the first requests (both sides are warmed alike)."""
    if not wrk.available():
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    service_requests, baseline_requests = outline_requests(data)
    for pid in (servers.service.pid, servers.baseline.pid):
        wrk.pin(pid, wrk.server_cpus())
    async with client(servers.service.url, load) as a, client(servers.baseline.url, load) as b:
        await _same_bytes(a, b, service_requests, baseline_requests)
    seconds = max(2.0, load.peak_seconds * 2)
    urls = {"service": servers.service.url, "baseline": servers.baseline.url}
    requests = {"service": service_requests, "baseline": baseline_requests}
    wrk.run(urls["service"], service_requests, seconds=1)  # warm both caches and pools
    wrk.run(urls["baseline"], baseline_requests, seconds=1)
    result = _peaks(urls, requests, load=load, seconds=seconds)
    return {
        **result,
        "generator": "wrk 16 connections, 1 thread, closed loop",
        "goal": {"ratio_peak": ">= 1.2"},
    }
