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
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.harness import write_result
from bench.outline import SECRET, add_load_arguments, alternate, build_dataset, server, service_env
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
        env = service_env(pg, mongo)
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
                measured = await alternate(
                    (a, service_requests),
                    (b, baseline_requests),
                    rounds=rounds,
                    concurrency=concurrency,
                    peak_seconds=peak_seconds,
                    latency_seconds=latency_seconds,
                    method="PUT",
                    content=BODY,
                )
    return {
        "benchmark": "progress",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {"courses": courses, "lessons_per_course": lessons, **timings},
        "rounds": rounds,
        **measured,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_load_arguments(parser)
    write_result("progress", asyncio.run(run(**vars(parser.parse_args()))))


if __name__ == "__main__":
    main()
