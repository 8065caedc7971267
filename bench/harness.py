"""Shared pieces of the benchmarks: a server under test in its own process, a closed-loop
peak probe, an open-loop (fixed-rate) latency probe that measures each request from its
*scheduled* send time, so a stalled server is charged for every request it delayed (no
coordinated omission), and the A B round loop every HTTP scenario uses. Figures are
compared only with a baseline measured in the same run."""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

SECRET = "bench-secret-" + "b" * 40
MONGO_DB = "bench"
# the latency percentiles every open-loop measurement reports (and the chart draws)
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}

Requests = list[tuple[str, dict[str, str]]]


@dataclass(frozen=True)
class Load:
    """How hard and how long each HTTP scenario is driven."""

    rounds: int = 5
    concurrency: int = 16
    peak_seconds: float = 5.0
    latency_seconds: float = 8.0
    warmup_seconds: float = 2.0
    # asgi_servers compares uvicorn and granian at each of these worker counts; a quick
    # run keeps one (each extra count starts two more servers, seconds each)
    asgi_workers: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclass(frozen=True)
class Servers:
    """The service and the bare baseline app, one uvicorn worker each, shared by the
    scenarios of a run (started once: starting a server costs seconds)."""

    service: Server
    baseline: Server


def service_env(postgres_url: str, mongo_url: str) -> dict[str, str]:
    """This process's environment minus any SYLLABUS_ setting, plus the bench stores."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
    env.update(
        SYLLABUS_ENV="test",
        SYLLABUS_POSTGRES_URL=postgres_url,
        SYLLABUS_MONGO_URL=mongo_url,
        SYLLABUS_MONGO_DB=MONGO_DB,
        SYLLABUS_JWT_SECRET=SECRET,
        SYLLABUS_LOG_LEVEL="warning",
    )
    return env


SERVICE = "syllabus.main:create_app"
BASELINE = "bench.baseline_app:app"


def _command(app: str, port: int, *, engine: str, workers: int) -> list[str]:
    factory = app == SERVICE
    address = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if engine == "granian":
        flags = ["--interface", "asgi", "--log-level", "warning", "--no-access-log"]
        return [
            sys.executable,
            "-m",
            "granian",
            *flags,
            *address,
            *(["--factory"] if factory else []),
            app,
        ]
    flags = ["--log-level", "warning", "--no-access-log"]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *flags,
        *address,
        *(["--factory"] if factory else []),
        app,
    ]


@contextmanager
def server(
    app: str, env: dict[str, str], *, ready_path: str, engine: str = "uvicorn", workers: int = 1
) -> Iterator[Server]:
    """``app`` served by ``engine`` on a free port until the block ends."""
    from syllabus.embedded import free_port

    port = free_port()
    process = subprocess.Popen(_command(app, port, engine=engine, workers=workers), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{app} under {engine} exited with {process.returncode}")
            try:
                if httpx.get(base + ready_path, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield Server(url=base, pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set so far (``VmHWM``), from the kernel."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def client(url: str, load: Load, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """A load generator's client: enough connections for the closed and open loops."""
    limits = httpx.Limits(max_connections=load.concurrency + 64)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=60, headers=headers)


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    content: bytes | None,
    errors: list[str] | None,
) -> bool:
    """One request; an error status always fails the run (the benchmark is wrong), a
    transport error only when nobody collects them."""
    try:
        response = await client.request(method, url, headers=headers, content=content)
    except httpx.TransportError as error:
        if errors is None:
            raise
        errors.append(f"{type(error).__name__}: {error}")
        return False
    response.raise_for_status()
    return True


async def closed_loop(
    client: httpx.AsyncClient,
    requests: Requests,
    *,
    concurrency: int,
    seconds: float,
    method: str = "GET",
    content: bytes | None = None,
    errors: list[str] | None = None,
) -> float:
    """Peak: ``concurrency`` clients back to back for ``seconds``; requests per second.
    With ``errors``, a dropped connection is recorded there instead of ending the run."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        index = offset
        while time.perf_counter() < stop:
            url, headers = requests[index % len(requests)]
            index += concurrency
            if await _send(client, method, url, headers, content, errors):
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done / (time.perf_counter() - started)


async def open_loop(
    client: httpx.AsyncClient,
    requests: Requests,
    *,
    rate: float,
    seconds: float,
    method: str = "GET",
    content: bytes | None = None,
    errors: list[str] | None = None,
) -> list[float]:
    """GET/PUT ``requests`` in turn at a fixed rate (see :func:`at_fixed_rate`).
    With ``errors``, a dropped connection is recorded there instead of ending the run."""

    async def one(n: int) -> bool:
        url, headers = requests[n % len(requests)]
        return await _send(client, method, url, headers, content, errors)

    return await at_fixed_rate(one, count=max(1, int(rate * seconds)), rate=rate)


async def at_fixed_rate(
    send: Callable[[int], Awaitable[bool]], *, count: int, rate: float
) -> list[float]:
    """Call *n* is due at ``start + n / rate`` and made then whatever earlier calls are
    doing; its latency (ms) counts from that due time, so a stalled server is charged
    for every call it delayed. ``send`` returns whether the call counts."""
    start = time.perf_counter()
    latencies: list[float] = []

    async def one(n: int) -> None:
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if await send(n):
            latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(n) for n in range(count)))
    return latencies


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentiles(rounds: Sequence[Sequence[float]]) -> dict[str, dict[str, float]]:
    """Each percentile per round, summarised over rounds (median, min, max)."""
    return {
        name: summary([percentile(latencies, q) for latencies in rounds])
        for name, q in PERCENTILES.items()
    }


async def alternate(
    service: tuple[httpx.AsyncClient, Requests],
    baseline: tuple[httpx.AsyncClient, Requests],
    *,
    load: Load,
    method: str = "GET",
    content: bytes | None = None,
) -> dict[str, Any]:
    """Warm both up, then A B rounds of closed-loop peaks, then A B rounds of open-loop
    latency at 50 % of the baseline's median peak. Returns both ratios."""
    sides = {"service": service, "baseline": baseline}
    dropped: dict[str, list[str]] = {name: [] for name in sides}
    options: dict[str, Any] = {"method": method, "content": content}
    for client, requests in sides.values():  # warm up
        await closed_loop(
            client, requests, concurrency=load.concurrency, seconds=load.warmup_seconds, **options
        )
    peak: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(load.rounds):
        for name, (client, requests) in sides.items():
            peak[name].append(
                await closed_loop(
                    client,
                    requests,
                    concurrency=load.concurrency,
                    seconds=load.peak_seconds,
                    errors=dropped[name],
                    **options,
                )
            )
    rate = 0.5 * statistics.median(peak["baseline"])
    latencies: dict[str, list[list[float]]] = {name: [] for name in sides}
    for _ in range(load.rounds):
        for name, (client, requests) in sides.items():
            latencies[name].append(
                await open_loop(
                    client,
                    requests,
                    rate=rate,
                    seconds=load.latency_seconds,
                    errors=dropped[name],
                    **options,
                )
            )
    peak_s = {name: summary(values) for name, values in peak.items()}
    latency_s = {name: percentiles(rounds) for name, rounds in latencies.items()}
    return {
        "rounds": load.rounds,
        "concurrency": load.concurrency,
        "peak_requests_per_second": {**peak_s, "per_round": peak},
        "open_loop_rate": rate,
        "latency_ms": latency_s,
        "dropped_connections": {name: len(found) for name, found in dropped.items()},
        "dropped_examples": {name: sorted(set(found))[:3] for name, found in dropped.items()},
        "ratio_throughput": peak_s["service"]["median"] / peak_s["baseline"]["median"],
        "ratio_p99": latency_s["service"]["p99"]["median"] / latency_s["baseline"]["p99"]["median"],
    }


RESULTS = Path(__file__).parent / "results"
# `make bench-quick` points this elsewhere so a smoke run never replaces real figures
RESULTS_DIR_VARIABLE = "SYLLABUS_BENCH_RESULTS"


def results_folder() -> Path:
    folder = Path(os.environ.get(RESULTS_DIR_VARIABLE) or RESULTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Save a run as ``<results>/<date>-<name>.json`` and print it."""
    path = results_folder() / f"{datetime.now(UTC):%Y-%m-%d}-{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {path}")
    return path
