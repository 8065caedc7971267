"""Exam day ([5/8]): every learner presses "Start" in the same ten seconds.

STARTERS learners (enrolled in the full courses, each sitting their course's exam) start
an attempt at a fixed rate (STARTERS over WINDOW seconds), then every one of them
autosaves an answer (a worked answer to the expert task: one event appended) at the same
rate. The baseline, measured side by side at the same
rate right after each phase, is a plain authenticated read (``GET /users/me``) by the
same learners. Reported: p50/p99 of each, the ratios (goals: start p99 at most 2x, autosave
p99 at most 1.3x the baseline), 5xx counts, and whether every variant was drawn once and
recorded (one attempt, with a seed and a variant, per learner).
"""

from collections import Counter
from typing import Any

import asyncpg
import httpx

from bench.dataset import Dataset, exam_id
from bench.harness import Load, Requests, Servers, at_fixed_rate, client, open_loop, percentile
from bench.outline import bearer, sample

WINDOW = 10.0
ESSAY = "x = 2, because both sides are even"
"""The autosave: a worked answer to the expert task (any text is valid there), so every
autosave appends one event to the attempt's log, as a learner typing does."""


def learners_of(data: Dataset, *, starters: int) -> list[tuple[dict[str, str], str]]:
    """(bearer headers, exam id) of ``starters`` (learner, course) pairs, each sitting
    their course's exam."""
    return [(bearer(user), exam_id(slug)) for user, slug in sample(data, seed=11, size=starters)]


def autosave_body(attempt: dict[str, Any]) -> dict[str, Any]:
    """The answers an autosave sends for this attempt: text for its expert task."""
    task = next(t["number"] for t in attempt["tasks"] if t["grading"] == "expert")
    return {"answers": [{"task": task, "answer": ESSAY}]}


def _p(latencies: list[float]) -> dict[str, float]:
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


async def exam_day(
    data: Dataset, load: Load, servers: Servers, *, starters: int = 1000
) -> dict[str, Any]:
    learners = learners_of(data, starters=starters)
    rate = len(learners) / WINDOW
    reads: Requests = [("/api/v1/users/me", headers) for headers, _ in learners]
    statuses: dict[str, Counter[int]] = {"start": Counter(), "autosave": Counter()}
    attempts: list[dict[str, Any] | None] = [None] * len(learners)
    dropped: list[str] = []  # connections the server dropped, by phase
    async with client(servers.service.url, load) as http:
        await open_loop(http, reads, rate=rate, seconds=2.0, errors=dropped)  # warm up
        dropped.clear()

        async def start(n: int) -> bool:
            headers, exam = learners[n]
            try:
                response = await http.post(f"/api/v1/exams/{exam}/attempts", headers=headers)
            except httpx.TransportError as error:
                dropped.append(f"start: {type(error).__name__}")
                return False
            statuses["start"][response.status_code] += 1
            if response.status_code == 201:
                attempts[n] = response.json()
            return True

        async def autosave(n: int) -> bool:
            attempt = attempts[n]
            if attempt is None:  # its start failed: counted there
                return False
            headers, _ = learners[n]
            try:
                response = await http.put(
                    f"/api/v1/exam-attempts/{attempt['id']}/answers",
                    json=autosave_body(attempt),
                    headers=headers,
                )
            except httpx.TransportError as error:
                dropped.append(f"autosave: {type(error).__name__}")
                return False
            statuses["autosave"][response.status_code] += 1
            return True

        started = await at_fixed_rate(start, count=len(learners), rate=rate)
        start_baseline = await open_loop(http, reads, rate=rate, seconds=WINDOW, errors=dropped)
        saved = await at_fixed_rate(autosave, count=len(learners), rate=rate)
        save_baseline = await open_loop(http, reads, rate=rate, seconds=WINDOW, errors=dropped)
    connection = await asyncpg.connect(data.postgres_url)
    try:
        recorded = await connection.fetchrow(
            "SELECT count(*) AS attempts, count(DISTINCT user_id) AS learners, "
            "count(DISTINCT seed) AS seeds, "
            "count(*) FILTER (WHERE jsonb_array_length(variant) > 0) AS with_variant "
            "FROM exam_attempts"
        )
    finally:
        await connection.close()
    latency = {
        "start": _p(started),
        "start_baseline": _p(start_baseline),
        "autosave": _p(saved),
        "autosave_baseline": _p(save_baseline),
    }
    return {
        "learners": len(learners),
        "rate_per_second": rate,
        "statuses": {phase: dict(counts) for phase, counts in statuses.items()},
        "dropped_connections": dict(Counter(dropped)),
        "server_errors": sum(n for c in statuses.values() for s, n in c.items() if s >= 500),
        "recorded": dict(recorded) if recorded else {},
        "latency_ms": latency,
        "ratio_start_p99": latency["start"]["p99"] / latency["start_baseline"]["p99"],
        "ratio_autosave_p99": latency["autosave"]["p99"] / latency["autosave_baseline"]["p99"],
        "goals": {"start_p99": 2.0, "autosave_p99": 1.3},
    }
