"""Lesson-progress PUT vs a raw asyncpg upsert.

Requests: enrolled learners marking a random lesson of their course ``started`` (some
rows new, most already there: an idempotent re-save), the same requests for both sides.
The service (A) checks the enrollment and the published lesson, upserts, and logs
activity the first time; the baseline (B, bench/baseline_app.py) is one raw upsert in a
bare Starlette + asyncpg app. One uvicorn worker each. Goal: throughput A/B >= 0.5.
"""

import json
import random
from typing import Any

from bench.dataset import Dataset
from bench.harness import Load, Requests, Servers, alternate, client
from bench.outline import bearer, sample

BODY = json.dumps({"status": "started"}).encode()


def progress_requests(data: Dataset) -> tuple[Requests, Requests]:
    rng = random.Random(5)
    calls = [(rng.choice(data.lessons[slug]), bearer(user)) for user, slug in sample(data, seed=5)]
    service = [(f"/api/v1/progress/lessons/{lesson}", h) for lesson, h in calls]
    baseline = [(f"/progress/{lesson}", h) for lesson, h in calls]
    return service, baseline


async def progress(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    service_requests, baseline_requests = progress_requests(data)
    headers = {"Content-Type": "application/json"}
    async with (
        client(servers.service.url, load, headers) as a,
        client(servers.baseline.url, load, headers) as b,
    ):
        measured = await alternate(
            (a, service_requests),
            (b, baseline_requests),
            load=load,
            method="PUT",
            content=BODY,
        )
    return {**measured, "goals": {"ratio_throughput": ">= 0.5"}}
