"""Exam day ([5/8]): every learner presses "Start" in the same ten seconds.

``exam_starters`` learners (1,000; 60 in the quick run; enrolled in the full courses,
each sitting their course's exam) start an attempt at a fixed rate (all of them within
``exam_window_seconds``: 10 s; 3 s quick), then every one of them
autosaves an answer (a worked answer to the expert task: one event appended) at the same
rate. The baseline, measured side by side at the same
rate right after each phase, is a plain authenticated read (``GET /users/me``) by the
same learners. Reported: p50/p99 of each, the ratios (goals: start p99 at most 2x, autosave
p99 at most 1.3x the baseline), the status counts of every phase (a pool exhausted
is counted 503s; see DEADLINE_SECONDS), and whether every variant was drawn once and
recorded (one attempt, with a seed and a variant, per learner).
"""

import asyncio
from collections import Counter
from typing import Any

import asyncpg
import httpx

from bench.dataset import Dataset, exam_id
from bench.harness import Load, Servers, at_fixed_rate, client, percentile
from bench.outline import bearer, sample

ESSAY = "x = 2, because both sides are even"
"""The autosave: a worked answer to the expert task (any text is valid there), so every
autosave appends one event to the attempt's log, as a learner typing does."""
DEADLINE_SECONDS = 45.0
"""How long the generator waits for one answer. The service waits at most 30 s for a
pooled PostgreSQL connection (SQLAlchemy's ``pool_timeout``) and then answers 503, so an
exhausted pool shows up here as counted 503s; whatever is still unanswered at the deadline
is abandoned and counted as timed out. So a phase ends at most this long after its
window, however far behind the service falls: an overload is a result, never a hang."""


def learners_of(data: Dataset, *, starters: int) -> list[tuple[dict[str, str], str]]:
    """(bearer headers, exam id) of ``starters`` (learner, course) pairs, each sitting
    their course's exam."""
    return [(bearer(user), exam_id(slug)) for user, slug in sample(data, seed=11, size=starters)]


def autosave_body(attempt: dict[str, Any]) -> dict[str, Any]:
    """The answers an autosave sends for this attempt: text for its expert task."""
    task = next(t["number"] for t in attempt["tasks"] if t["grading"] == "expert")
    return {"answers": [{"task": task, "answer": ESSAY}]}


def _p(latencies: list[float]) -> dict[str, float]:
    if not latencies:  # nothing answered: the counts say why
        return {"p50": float("nan"), "p99": float("nan")}
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


async def exam_day(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    """The dataset's ``exam_starters`` learners start within ``exam_window_seconds``, then
    autosave at the same rate; each phase followed by the baseline read at that rate."""
    window = data.sizes.exam_window_seconds
    learners = learners_of(data, starters=data.sizes.exam_starters)
    rate = len(learners) / window
    statuses: dict[str, Counter[int]] = {}
    unanswered: Counter[str] = Counter()  # "<phase>: <error>", the deadline's and the socket's
    attempts: list[dict[str, Any] | None] = [None] * len(learners)
    async with client(servers.service.url, load) as http:

        async def call(
            phase: str, method: str, url: str, headers: dict[str, str], body: Any = None
        ) -> httpx.Response | None:
            """One request within the deadline, its status counted under ``phase``."""
            try:
                response = await asyncio.wait_for(
                    http.request(method, url, headers=headers, json=body), DEADLINE_SECONDS
                )
            except (TimeoutError, httpx.TransportError) as error:
                unanswered[f"{phase}: {type(error).__name__}"] += 1
                return None
            statuses.setdefault(phase, Counter())[response.status_code] += 1
            return response

        async def read(phase: str, seconds: float) -> list[float]:
            """The baseline: ``GET /users/me`` by the same learners, at the same rate."""

            async def one(n: int) -> bool:
                headers, _ = learners[n % len(learners)]
                return await call(phase, "GET", "/api/v1/users/me", headers) is not None

            return await at_fixed_rate(one, count=max(1, int(rate * seconds)), rate=rate)

        async def start(n: int) -> bool:
            headers, exam = learners[n]
            response = await call("start", "POST", f"/api/v1/exams/{exam}/attempts", headers)
            if response is not None and response.status_code == 201:
                attempts[n] = response.json()
            return response is not None

        async def autosave(n: int) -> bool:
            attempt = attempts[n]
            if attempt is None:  # its start failed: counted there
                return False
            headers, _ = learners[n]
            url = f"/api/v1/exam-attempts/{attempt['id']}/answers"
            return await call("autosave", "PUT", url, headers, autosave_body(attempt)) is not None

        await read("warmup", min(2.0, window))
        started = await at_fixed_rate(start, count=len(learners), rate=rate)
        start_baseline = await read("start_baseline", window)
        saved = await at_fixed_rate(autosave, count=len(learners), rate=rate)
        save_baseline = await read("autosave_baseline", window)
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
        "window_seconds": window,
        "rate_per_second": rate,
        "deadline_seconds": DEADLINE_SECONDS,
        "statuses": {phase: dict(counts) for phase, counts in statuses.items()},
        "unanswered": dict(unanswered),
        "server_errors": sum(n for c in statuses.values() for s, n in c.items() if s >= 500),
        "recorded": dict(recorded) if recorded else {},
        "latency_ms": latency,
        "ratio_start_p99": latency["start"]["p99"] / latency["start_baseline"]["p99"],
        "ratio_autosave_p99": latency["autosave"]["p99"] / latency["autosave_baseline"]["p99"],
        "goals": {"start_p99": 2.0, "autosave_p99": 1.3},
    }
