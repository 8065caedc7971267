"""Lesson-progress PUT vs a raw asyncpg upsert.

Requests: enrolled learners marking a random lesson of their course ``started`` (some
rows new, most already there: an idempotent re-save), the same requests for both sides.
The service (A) checks the enrollment and the published lesson, upserts, and logs
activity the first time; the baseline (B, bench/baseline_app.py) is one raw upsert in a
bare Starlette + asyncpg app. One uvicorn worker each. Goal: throughput A/B >= 0.5.
"""

import asyncio
import json
import random
import statistics
from typing import Any

from bench import wrk
from bench.dataset import Dataset, right_answers
from bench.harness import Load, Requests, Servers, alternate, client
from bench.outline import bearer, sample
from bench.submit import quiz_takers

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


async def _open_attempts(
    http: Any, learners: list[tuple[dict[str, str], str]], *, concurrency: int
) -> list[tuple[str, dict[str, str], str]]:
    """A fresh attempt per learner (each submitted once by wrk, with its own key)."""
    gate = asyncio.Semaphore(concurrency)

    async def start(headers: dict[str, str], quiz: str) -> tuple[str, dict[str, str], str]:
        async with gate:
            response = await http.post(f"/api/v1/quizzes/{quiz}/attempts", headers=headers)
            if response.status_code == 409 and "attempt_id" in response.json():
                return str(response.json()["attempt_id"]), headers, quiz  # still open
            response.raise_for_status()
            return str(response.json()["id"]), headers, quiz

    return list(await asyncio.gather(*(start(h, q) for h, q in learners)))


def _median(runs: list[wrk.WrkResult], field: str) -> float:
    return float(statistics.median(getattr(run, field) for run in runs))


async def progress_peak(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    """Peaks by wrk (C, pinned to its own core where there are two): the progress PUT,
    the raw upsert of the bare app and the quiz submit, alternated within each round (the
    order rotating), the same requests as ``progress``. Each submit round sends fresh
    attempts, opened just before it; a round that ran out of them (wrk cycles, so the
    rest would be replays of a stored answer) is reported as such, not counted as grading."""
    if not wrk.available():
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    for pid in (servers.service.pid, servers.baseline.pid):
        wrk.pin(pid, wrk.server_cpus())
    service_requests, baseline_requests = progress_requests(data)
    body = BODY.decode()
    seconds = max(1.0, load.peak_seconds)  # wrk counts whole seconds
    put = {
        "service": (servers.service.url, service_requests),
        "baseline": (servers.baseline.url, baseline_requests),
    }
    json_headers = {"Content-Type": "application/json"}

    def write(side: str, duration: float) -> wrk.WrkResult:
        url, requests = put[side]
        requests = [(path, {**headers, **json_headers}) for path, headers in requests]
        return wrk.run(
            url,
            requests,
            seconds=duration,
            connections=load.concurrency,
            method="PUT",
            bodies=[body] * len(requests),
        )

    learners = quiz_takers(data, scenario="progress_peak")  # not submit's learners
    answers = {
        quiz: json.dumps({"answers": right_answers(quiz, data.sizes.questions)})
        for _, quiz in learners
    }
    runs: dict[str, list[wrk.WrkResult]] = {"service": [], "baseline": [], "submit": []}
    wrapped = 0
    write("service", 1)  # warm both pools
    write("baseline", 1)
    async with client(servers.service.url, load) as http:
        for round_no in range(load.rounds):
            attempts = await _open_attempts(http, learners, concurrency=load.concurrency)
            sides = ["service", "baseline", "submit"]
            sides = sides[round_no % 3 :] + sides[: round_no % 3]
            for side in sides:
                if side != "submit":
                    runs[side].append(write(side, seconds))
                    continue
                requests = [
                    (
                        f"/api/v1/quiz-attempts/{attempt}/submit",
                        {**headers, **json_headers, "Idempotency-Key": f"wrk-{attempt}"},
                    )
                    for attempt, headers, _ in attempts
                ]
                submitted = wrk.run(
                    servers.service.url,
                    requests,
                    seconds=seconds,
                    connections=load.concurrency,
                    method="POST",
                    bodies=[answers[quiz] for _, _, quiz in attempts],
                )
                if submitted.requests_per_second * submitted.seconds > len(attempts):
                    wrapped += 1
                runs["submit"].append(submitted)
    result: dict[str, Any] = {
        side: {
            "peak_rps": _median(measured, "requests_per_second"),
            "peak_rps_min_max": [
                min(r.requests_per_second for r in measured),
                max(r.requests_per_second for r in measured),
            ],
            "p99_ms_closed_loop": _median(measured, "p99_ms"),
            "errors": sum(r.errors + r.non2xx for r in measured),
            "generator_cpu_share": statistics.median(
                r.generator_cpu_seconds / r.seconds for r in measured
            ),
        }
        for side, measured in runs.items()
    }
    return {
        **result,
        "ratio_peak": result["service"]["peak_rps"] / result["baseline"]["peak_rps"],
        "ratio_submit_to_upsert": result["submit"]["peak_rps"] / result["baseline"]["peak_rps"],
        "submit_rounds_out_of_fresh_attempts": wrapped,
        "submit_attempts_per_round": len(learners),
        "generator": "wrk 16 connections, 1 thread, closed loop",
        "goal": {"ratio_peak": ">= 0.5"},
    }
