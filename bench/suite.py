"""The whole benchmark suite on one generated dataset: ``make bench`` (full sizes) and
``make bench-quick`` (a small smoke run). Starts throwaway embedded PostgreSQL and
MongoDB-wire servers, builds bench/dataset.py's dataset once, runs every scenario in
turn, and writes ``<results>/<date>.json``, a latency chart ``<date>-latency.png`` and
the summary table in bench/RESULTS.md (full runs only).

Run: .venv/bin/python -m bench [--quick] [--only outline progress ...]
"""

import argparse
import asyncio
import json
import os
import platform
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient

from bench import dataset
from bench.content_load import content_load
from bench.exam_day import exam_day
from bench.harness import (
    BASELINE,
    RESULTS,
    RESULTS_DIR_VARIABLE,
    SERVICE,
    Load,
    Servers,
    results_folder,
    server,
    service_env,
)
from bench.identity_abuse import LIFTED
from bench.load_memory import load_memory
from bench.login_burst import login_burst
from bench.outline import asgi_servers, lesson_peak, outline, outline_peak, quiz_peak
from bench.progress import progress, progress_peak
from bench.report import write_chart, write_summary
from bench.search import search
from bench.submit import submit
from bench.views import views
from syllabus.db import migrate
from syllabus.embedded import APP_ROLE, embedded_stores

Scenario = Callable[[dataset.Dataset, Load, Servers], Awaitable[dict[str, Any]]]
# in the order they run: the read-only views first, on the dataset as generated; the
# outline first over HTTP, so the workers' high-water RSS is the outline load's
SCENARIOS: dict[str, Scenario] = {
    "views": lambda data, load, _: views(data, rounds=load.rounds),
    "outline": outline,
    "outline_peak": outline_peak,
    "lesson_peak": lesson_peak,
    "quiz_peak": quiz_peak,
    "asgi_servers": asgi_servers,
    "progress": progress,
    "progress_peak": progress_peak,
    "submit": submit,
    "exam_day": exam_day,
    "search": search,
    "login_burst": login_burst,
    "content_load": lambda data, load, _: content_load(
        data, lessons=data.sizes.load_lessons, rounds=load.rounds
    ),
    "load_memory": lambda data, _, __: load_memory(
        data.postgres_url, data.mongo_url, list(data.sizes.memory_lessons)
    ),
}
# a smoke run: every scenario, in about two minutes (bench/README.md)
QUICK_LOAD = Load(
    rounds=2, peak_seconds=0.5, latency_seconds=0.5, warmup_seconds=0.2, asgi_workers=(1,)
)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _engine() -> str:
    """The embedded Mongo-wire engine's package (the service itself never asks)."""
    try:
        return f"SecantusDB {metadata.version('secantusdb')} (embedded)"
    except metadata.PackageNotFoundError:
        return "a MongoDB server given by URL"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return 0.0


async def machine(postgres_url: str, mongo_url: str) -> dict[str, Any]:
    """What the figures were measured on: they are only comparable within one run."""
    connection = await asyncpg.connect(postgres_url)
    try:
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        build = await mongo.admin.command("buildInfo")
    finally:
        await mongo.close()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "postgresql": f"{postgres} (embedded, pgserver)",
        "mongodb_wire_server": f"{_engine()}, reports MongoDB {build.get('version', '?')}",
        "load_generator": "bench/harness.py (httpx, asyncio) on the same machine",
    }


async def run(
    *, quick: bool, only: list[str], rounds: int | None, latency_seconds: float | None = None
) -> dict[str, Any]:
    sizes = dataset.QUICK if quick else dataset.Sizes()
    load = QUICK_LOAD if quick else Load()
    if rounds:
        load = replace(load, rounds=rounds)
    if latency_seconds:
        load = replace(load, latency_seconds=latency_seconds)
    results: dict[str, Any] = {}
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert pg.superuser is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg.owner, app_role=APP_ROLE)
        described = await machine(pg.superuser, mongo)
        print(f"generating the dataset: {sizes}", flush=True)
        data = await dataset.build(pg.superuser, mongo, sizes)  # COPY, and scratch databases
        print(f"generated in {data.timings['total_seconds']:.1f} s", flush=True)
        # The service signs in as the app role. Throttles lifted (DECISIONS 9): login_burst
        # signs up and in from one address on purpose; bench/identity_abuse.py measures them.
        env = {**service_env(pg.app, mongo), **LIFTED}
        with (
            server(SERVICE, env, ready_path="/health/live") as service,
            server(BASELINE, env, ready_path="/live") as baseline,
        ):
            servers = Servers(service=service, baseline=baseline)
            for name, scenario in SCENARIOS.items():
                if only and name not in only:
                    continue
                print(f"scenario {name} ...", flush=True)
                began = time.perf_counter()
                try:
                    results[name] = await scenario(data, load, servers)
                except Exception as error:
                    traceback.print_exc()
                    results[name] = {"error": f"{type(error).__name__}: {error}"}
                results[name]["scenario_seconds"] = time.perf_counter() - began
                print(json.dumps(results[name], indent=1, default=str)[:1500], flush=True)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": described,
        "dataset": {"sizes": asdict(sizes), "generation": data.timings},
        "load": asdict(load),
        "scenarios": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 short rounds")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), default=[])
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--latency-seconds", type=float, help="override each open-loop round's length"
    )
    args = parser.parse_args()
    if args.quick:  # a smoke run never lands among the real figures, however it is started
        os.environ.setdefault(RESULTS_DIR_VARIABLE, str(RESULTS / "quick"))
    result = asyncio.run(
        run(
            quick=args.quick,
            only=args.only,
            rounds=args.rounds,
            latency_seconds=args.latency_seconds,
        )
    )
    folder = results_folder()
    stem = f"{datetime.now(UTC):%Y-%m-%d}"
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart = write_chart(result, folder / f"{stem}-latency.png")
    print(f"written {path} and {chart}")
    if not args.quick and not os.environ.get(RESULTS_DIR_VARIABLE) and not args.only:
        write_summary(result, Path(__file__).parent / "RESULTS.md", json_path=path, chart=chart)
        print("bench/RESULTS.md summary table updated")
    failed = [name for name, found in result["scenarios"].items() if "error" in found]
    if failed:  # the figures are written, but a run with a failed scenario is no success
        raise SystemExit(f"failed scenarios: {', '.join(failed)}")


if __name__ == "__main__":
    main()
