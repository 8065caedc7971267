"""Issue [4/8] benchmark: GET /courses/{id}/outline with my progress, against a bare
Starlette + asyncpg + PyMongo app (bench/baseline_app.py) that runs the same two queries
and returns the same bytes.

Dataset (generated, timed): COURSES x LESSONS lessons loaded through the content
loader, LEARNERS learners, two enrollments each, and PROGRESS lesson_progress rows,
written with PostgreSQL COPY. Then, alternating service (A) and baseline (B) for ROUNDS
rounds, both as separate uvicorn processes (1 worker each):
  - peak throughput: closed loop, CONCURRENCY clients, PEAK_SECONDS;
  - latency: open loop at 50 % of the baseline's median peak, p99 measured from each
    request's scheduled time (no coordinated omission).
Goals: throughput A/B >= 0.8; p99 A/B <= 1.3.

Run: .venv/bin/python -m bench.outline [--learners 20000] [--progress 1000000] [--rounds 5]
"""

import argparse
import asyncio
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.content_load import generate
from bench.harness import percentile, summary, write_result
from syllabus.config import to_asyncpg_url
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.embedded import embedded_stores, free_port
from syllabus.identity.security import create_access_token
from syllabus.kit.ids import uuid7

SECRET = "bench-secret-" + "b" * 40
MONGO_DB = "bench_outline"


async def build_dataset(
    postgres_url: str, mongo_url: str, *, courses: int, lessons: int, learners: int, progress: int
) -> tuple[list[tuple[str, str]], dict[str, float]]:
    """Returns (user id, course slug) pairs that are enrolled, and generation timings."""
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch:
        folder = generate(Path(scratch) / "content", lessons=courses * lessons, per_course=lessons)
        started = time.perf_counter()
        engine = create_engine(to_asyncpg_url(postgres_url), pool_size=2, max_overflow=0)
        client = create_client(mongo_url)
        try:
            await init_documents(client[MONGO_DB])
            result = await load_folder(
                folder, database=client[MONGO_DB], sessionmaker=create_sessionmaker(engine)
            )
            assert result.ok, result.problems
        finally:
            await client.close()
            await engine.dispose()
        timings["content_load_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    connection = await asyncpg.connect(postgres_url)
    try:
        course_rows = await connection.fetch(
            "SELECT c.id, c.slug, array_agg(i.content_id ORDER BY i.position) AS lessons "
            "FROM courses c JOIN content_index i ON i.course_id = c.id "
            "WHERE i.item_type = 'lesson' GROUP BY c.id, c.slug ORDER BY c.slug"
        )
        users = [(uuid7(), f"bench-{n}@example.org", f"Learner {n}") for n in range(learners)]
        await connection.copy_records_to_table(
            "users", records=users, columns=["id", "email", "name"]
        )
        enrollments = []
        pairs: list[tuple[str, str]] = []
        for n, (user_id, _, _) in enumerate(users):
            for course in (
                course_rows[n % len(course_rows)],
                course_rows[(n * 7 + 3) % len(course_rows)],
            ):
                enrollments.append((uuid7(), user_id, course["id"], "active"))
                pairs.append((str(user_id), course["slug"]))
        await connection.copy_records_to_table(
            "enrollments", records=enrollments, columns=["id", "user_id", "course_id", "status"]
        )
        per_enrollment = max(1, progress // len(enrollments))
        now = datetime.now(UTC)
        lesson_map = {row["id"]: row["lessons"] for row in course_rows}
        rows = []
        for _, user_id, course_id, _ in enrollments:
            ids = lesson_map[course_id][:per_enrollment]
            for position, lesson in enumerate(ids):
                completed = position < len(ids) - 1
                rows.append(
                    (
                        uuid7(),
                        user_id,
                        course_id,
                        lesson,
                        "completed" if completed else "started",
                        now - timedelta(minutes=position) if completed else None,
                    )
                )
        await connection.copy_records_to_table(
            "lesson_progress",
            records=rows,
            columns=["id", "user_id", "course_id", "lesson_content_id", "status", "completed_at"],
        )
        await connection.execute("ANALYZE")
        timings["postgres_copy_seconds"] = time.perf_counter() - started
        timings["lesson_progress_rows"] = float(len(rows))
        timings["enrollments"] = float(len(enrollments))
    finally:
        await connection.close()
    return pairs, timings


@contextmanager
def server(args: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + ready_path, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def closed_loop(
    client: httpx.AsyncClient,
    requests: list[tuple[str, dict[str, str]]],
    *,
    concurrency: int,
    seconds: float,
    method: str = "GET",
    content: bytes | None = None,
) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        index = offset
        while time.perf_counter() < stop:
            url, headers = requests[index % len(requests)]
            response = await client.request(method, url, headers=headers, content=content)
            response.raise_for_status()
            done += 1
            index += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done / (time.perf_counter() - started)


async def open_loop(
    client: httpx.AsyncClient,
    requests: list[tuple[str, dict[str, str]]],
    *,
    rate: float,
    seconds: float,
    method: str = "GET",
    content: bytes | None = None,
) -> list[float]:
    start = time.perf_counter()
    latencies: list[float] = []

    async def one(n: int) -> None:
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        url, headers = requests[n % len(requests)]
        response = await client.request(method, url, headers=headers, content=content)
        response.raise_for_status()
        latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(n) for n in range(int(rate * seconds))))
    return latencies


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


async def alternate(
    service: tuple[httpx.AsyncClient, list[tuple[str, dict[str, str]]]],
    baseline: tuple[httpx.AsyncClient, list[tuple[str, dict[str, str]]]],
    *,
    rounds: int,
    concurrency: int,
    peak_seconds: float,
    latency_seconds: float,
    method: str = "GET",
    content: bytes | None = None,
) -> dict[str, Any]:
    """Warm both up, then A B rounds: closed-loop peaks, then open-loop p99 at 50 % of
    the baseline's median peak. Returns the result fields with both ratios."""
    sides = {"service": service, "baseline": baseline}
    for client, requests in sides.values():  # warm up
        await closed_loop(
            client, requests, concurrency=concurrency, seconds=2, method=method, content=content
        )
    peak: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, (client, requests) in sides.items():
            peak[name].append(
                await closed_loop(
                    client,
                    requests,
                    concurrency=concurrency,
                    seconds=peak_seconds,
                    method=method,
                    content=content,
                )
            )
    rate = 0.5 * summary(peak["baseline"])["median"]
    p99: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, (client, requests) in sides.items():
            latencies = await open_loop(
                client, requests, rate=rate, seconds=latency_seconds, method=method, content=content
            )
            p99[name].append(percentile(latencies, 99))
    peak_s = {k: summary(v) for k, v in peak.items()}
    p99_s = {k: summary(v) for k, v in p99.items()}
    return {
        "peak_requests_per_second": {**peak_s, "per_round": peak},
        "open_loop_rate": rate,
        "p99_ms_at_half_baseline_peak": {**p99_s, "per_round": p99},
        "ratio_throughput_service_over_baseline": peak_s["service"]["median"]
        / peak_s["baseline"]["median"],
        "ratio_p99_service_over_baseline": p99_s["service"]["median"] / p99_s["baseline"]["median"],
    }


async def run(
    *,
    courses: int,
    lessons: int,
    learners: int,
    progress: int,
    rounds: int,
    concurrency: int,
    peak_seconds: float,
    latency_seconds: float,
) -> dict[str, Any]:
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg)
        started = time.perf_counter()
        pairs, timings = await build_dataset(
            pg, mongo, courses=courses, lessons=lessons, learners=learners, progress=progress
        )
        timings["total_generation_seconds"] = time.perf_counter() - started
        env = service_env(pg, mongo)
        sample = random.Random(7).sample(pairs, min(2000, len(pairs)))
        tokens = {
            user: create_access_token(
                user_id=uuid.UUID(user),
                role="student",
                secret=SECRET,
                lifetime=timedelta(hours=2),
            )
            for user, _ in sample
        }
        service_requests = [
            (f"/api/v1/courses/{slug}/outline", {"Authorization": f"Bearer {tokens[user]}"})
            for user, slug in sample
        ]
        baseline_requests = [
            (f"/outline/{slug}", {"Authorization": f"Bearer {tokens[user]}"})
            for user, slug in sample
        ]
        with (
            server(
                ["syllabus.main:create_app", "--factory"], env, free_port(), "/health/live"
            ) as a_url,
            server(["bench.baseline_app:app"], env, free_port(), "/live") as b_url,
        ):
            limits = httpx.Limits(max_connections=concurrency + 64)
            async with (
                httpx.AsyncClient(base_url=a_url, limits=limits, timeout=60) as a,
                httpx.AsyncClient(base_url=b_url, limits=limits, timeout=60) as b,
            ):
                same_bytes = 0
                for (a_path, headers), (b_path, _) in zip(
                    service_requests[:50], baseline_requests[:50], strict=True
                ):
                    ra, rb = (
                        await a.get(a_path, headers=headers),
                        await b.get(b_path, headers=headers),
                    )
                    assert ra.status_code == rb.status_code == 200, (ra.text, rb.text)
                    assert ra.json() == rb.json(), (ra.text[:300], rb.text[:300])
                    same_bytes += ra.content == rb.content
                measured = await alternate(
                    (a, service_requests),
                    (b, baseline_requests),
                    rounds=rounds,
                    concurrency=concurrency,
                    peak_seconds=peak_seconds,
                    latency_seconds=latency_seconds,
                )
    return {
        "benchmark": "outline",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "dataset": {
            "courses": courses,
            "lessons_per_course": lessons,
            "learners": learners,
            **timings,
        },
        "rounds": rounds,
        "identical_bytes_of_50": same_bytes,
        **measured,
    }


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset and load options shared by the benchmarks on the outline dataset."""
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--progress", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--peak-seconds", type=float, default=5)
    parser.add_argument("--latency-seconds", type=float, default=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_load_arguments(parser)
    write_result("outline", asyncio.run(run(**vars(parser.parse_args()))))


if __name__ == "__main__":
    main()
