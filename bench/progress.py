"""Issue [7/8] benchmark: PUT /progress/lessons/{id} against a raw asyncpg upsert.

Dataset: the outline benchmark's (COURSES x LESSONS lessons through the loader,
LEARNERS learners with two enrollments each, PROGRESS lesson_progress rows by COPY).
Requests: enrolled learners marking a random lesson of their course ``started`` — some
rows new, most already there (an idempotent re-save), the same requests for both sides.
The service (A) checks the enrollment and the published lesson, upserts, and logs
activity the first time; the baseline (B, bench/baseline_app.py) is one raw upsert in a
bare Starlette + asyncpg app. Both are uvicorn processes with 1 worker, alternated A B
for ROUNDS rounds: closed-loop peak with CONCURRENCY clients, then open loop at 50 % of
the baseline's median peak with p99 from each request's scheduled time.
Goal: throughput A/B >= 0.5.

Run: .venv/bin/python -m bench.progress [--learners 20000] [--progress 1000000] [--rounds 5]
"""

import argparse
import asyncio
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import percentile, summary, write_result
from bench.outline import MONGO_DB, SECRET, build_dataset, closed_loop, open_loop, server
from syllabus.db import migrate
from syllabus.embedded import embedded_stores, free_port
from syllabus.identity.security import create_access_token

BODY = json.dumps({"status": "started"}).encode()


async def lesson_ids(postgres_url: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(postgres_url)
    try:
        rows = await connection.fetch(
            "SELECT c.slug, array_agg(i.content_id) AS lessons FROM courses c "
            "JOIN content_index i ON i.course_id = c.id AND i.item_type = 'lesson' "
            "GROUP BY c.slug"
        )
    finally:
        await connection.close()
    return {row["slug"]: list(row["lessons"]) for row in rows}


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
        pairs, timings = await build_dataset(
            pg, mongo, courses=courses, lessons=lessons, learners=learners, progress=progress
        )
        by_course = await lesson_ids(pg)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
        env.update(
            SYLLABUS_ENV="test",
            SYLLABUS_POSTGRES_URL=pg,
            SYLLABUS_MONGO_URL=mongo,
            SYLLABUS_MONGO_DB=MONGO_DB,
            SYLLABUS_JWT_SECRET=SECRET,
            SYLLABUS_LOG_LEVEL="warning",
        )
        rng = random.Random(5)
        sample = rng.sample(pairs, min(2000, len(pairs)))
        calls = []
        for user, slug in sample:
            token = create_access_token(
                user_id=uuid.UUID(user), role="student", secret=SECRET, lifetime=timedelta(hours=2)
            )
            calls.append((rng.choice(by_course[slug]), {"Authorization": f"Bearer {token}"}))
        service_requests = [(f"/api/v1/progress/lessons/{lesson}", h) for lesson, h in calls]
        baseline_requests = [(f"/progress/{lesson}", h) for lesson, h in calls]
        with (
            server(
                ["syllabus.main:create_app", "--factory"], env, free_port(), "/health/live"
            ) as a_url,
            server(["bench.baseline_app:app"], env, free_port(), "/live") as b_url,
        ):
            limits = httpx.Limits(max_connections=concurrency + 64)
            headers = {"Content-Type": "application/json"}
            async with (
                httpx.AsyncClient(base_url=a_url, limits=limits, timeout=60, headers=headers) as a,
                httpx.AsyncClient(base_url=b_url, limits=limits, timeout=60, headers=headers) as b,
            ):
                for client, requests in ((a, service_requests), (b, baseline_requests)):  # warm up
                    await closed_loop(
                        client,
                        requests,
                        concurrency=concurrency,
                        seconds=2,
                        method="PUT",
                        content=BODY,
                    )
                peak: dict[str, list[float]] = {"service": [], "baseline": []}
                for _ in range(rounds):
                    for name, client, requests in (
                        ("service", a, service_requests),
                        ("baseline", b, baseline_requests),
                    ):
                        peak[name].append(
                            await closed_loop(
                                client,
                                requests,
                                concurrency=concurrency,
                                seconds=peak_seconds,
                                method="PUT",
                                content=BODY,
                            )
                        )
                rate = 0.5 * summary(peak["baseline"])["median"]
                p99: dict[str, list[float]] = {"service": [], "baseline": []}
                for _ in range(rounds):
                    for name, client, requests in (
                        ("service", a, service_requests),
                        ("baseline", b, baseline_requests),
                    ):
                        latencies = await open_loop(
                            client,
                            requests,
                            rate=rate,
                            seconds=latency_seconds,
                            method="PUT",
                            content=BODY,
                        )
                        p99[name].append(percentile(latencies, 99))
    peak_s = {k: summary(v) for k, v in peak.items()}
    p99_s = {k: summary(v) for k, v in p99.items()}
    return {
        "benchmark": "progress",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {"courses": courses, "lessons_per_course": lessons, **timings},
        "rounds": rounds,
        "peak_requests_per_second": {**peak_s, "per_round": peak},
        "open_loop_rate": rate,
        "p99_ms_at_half_baseline_peak": {**p99_s, "per_round": p99},
        "ratio_throughput_service_over_baseline": peak_s["service"]["median"]
        / peak_s["baseline"]["median"],
        "ratio_p99_service_over_baseline": p99_s["service"]["median"] / p99_s["baseline"]["median"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--progress", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--peak-seconds", type=float, default=5)
    parser.add_argument("--latency-seconds", type=float, default=8)
    write_result("progress", asyncio.run(run(**vars(parser.parse_args()))))


if __name__ == "__main__":
    main()
