"""Shared pieces of the benchmarks: a service under test in its own process, and an
open-loop (fixed-rate) probe that measures latency from each request's *scheduled* send
time, so a stalled server is charged for the requests it delayed (no coordinated
omission). Figures are compared only with a baseline measured in the same run."""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from syllabus.embedded import free_port


@dataclass(frozen=True)
class Service:
    base_url: str
    pid: int


@contextmanager
def running_service(*, extra_env: dict[str, str] | None = None) -> Iterator[Service]:
    """``syllabus dev`` on throwaway embedded stores, as a separate process."""
    with tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
        env.update(
            SYLLABUS_DATA_DIR=str(Path(scratch) / "data"),
            SYLLABUS_PORT=str(port),
            SYLLABUS_LOG_LEVEL="warning",
            **(extra_env or {}),
        )
        log = (Path(scratch) / "service.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "syllabus.cli", "dev"], env=env, stdout=log, stderr=log
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError((Path(scratch) / "service.log").read_text())
                try:
                    if httpx.get(f"{base_url}/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            yield Service(base_url=base_url, pid=process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            log.close()


async def fixed_rate(
    client: httpx.AsyncClient, path: str, *, rate: float, seconds: float
) -> list[float]:
    """Send GET ``path`` at ``rate`` per second for ``seconds``; latencies in ms, each
    measured from the moment the request was *due*, not when it was actually sent."""
    interval = 1.0 / rate
    start = time.perf_counter()
    count = int(rate * seconds)
    latencies: list[float] = []

    async def one(due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        response = await client.get(path)
        response.raise_for_status()
        latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(start + i * interval) for i in range(count)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


RESULTS = Path(__file__).parent / "results"
# `make bench-quick` points this elsewhere so a smoke run never replaces real figures
RESULTS_DIR_VARIABLE = "SYLLABUS_BENCH_RESULTS"


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Save a run as ``bench/results/<date>-<name>.json`` (or under $SYLLABUS_BENCH_RESULTS)
    and print it."""
    folder = Path(os.environ.get(RESULTS_DIR_VARIABLE) or RESULTS)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y-%m-%d}-{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"written to {path}")
    return path
