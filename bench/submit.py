"""Submitting a 20-question quiz, and what grading costs.

1. Grading: ``grade()`` over the quiz's questions, per question, against a baseline in
   the same rounds that only compares each answer with its key (``==``).
2. Submit (A): enrolled learners (their own, :func:`quiz_takers`) submit fully right
   answers to a fresh attempt of a 20-question quiz (all seven types), with an
   Idempotency-Key; any non-2xx ends the scenario with its problem; baseline (B): the same
   learners reading the same quiz (``GET /quizzes/{id}``: the same stack and the same
   MongoDB documents, no grading or writes). Per round, A B: closed-loop peaks, then
   open-loop latency at 50 % of A's peak for both. No goal is set; the ratio says what
   grading and sealing add to serving the quiz.
"""

import asyncio
import statistics
import time
from typing import Any

import httpx

from bench.dataset import Dataset, question, right_answers
from bench.harness import (
    Load,
    Requests,
    Servers,
    at_fixed_rate,
    client,
    closed_loop,
    open_loop,
    percentiles,
    summary,
)
from bench.outline import bearer, sample
from syllabus.assessment.grading import grade


def grading_cost(rounds: int, *, questions: int, repeat: int = 2000) -> dict[str, Any]:
    stored: list[tuple[dict[str, Any], Any]] = []
    for n in range(questions):
        q, answer = question("bench", n)
        key: dict[str, Any] = {
            k: q.pop(k)
            for k in ("correct", "accepted", "value", "tolerance", "order", "pairs")
            if k in q
        }
        stored.append(({**q, "key": {"type": q["type"], **key}}, answer))
    graded, compared = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for q, answer in stored:
                grade(q, answer)
        graded.append((time.perf_counter() - started) / (repeat * questions) * 1e6)
        started = time.perf_counter()
        for _ in range(repeat):
            for q, answer in stored:
                _ = answer == next(iter(q["key"].values()))
        compared.append((time.perf_counter() - started) / (repeat * questions) * 1e6)
    return {
        "microseconds_per_question": summary(graded),
        "baseline_equality_microseconds": summary(compared),
        "ratio": summary(graded)["median"] / summary(compared)["median"],
    }


TAKERS = ("submit", "progress_peak")
"""The scenarios that open quiz attempts. Each takes its own share of one draw of
learners: an attempt one leaves open (wrk stops mid-round with requests unsent) would
answer the other's start with a 409 ``attempt-open``."""


def quiz_takers(data: Dataset, *, scenario: str) -> list[tuple[dict[str, str], str]]:
    """``data.sizes.submitters`` learners (bearer headers) and their course's first quiz,
    none shared with another scenario of :data:`TAKERS`."""
    slug_quiz = {slug: quizzes[0] for slug, quizzes in data.quizzes.items() if quizzes}
    share = data.sizes.submitters
    drawn = [
        (user, slug)
        for user, slug in sample(data, seed=9, size=len(data.enrolled))
        if slug in slug_quiz
    ]
    start = TAKERS.index(scenario) * share
    mine = drawn[start : start + share]
    if len(mine) < share:
        raise ValueError(f"{scenario}: {len(mine)} of {share} quiz takers left in the dataset")
    return [(bearer(user), slug_quiz[slug]) for user, slug in mine]


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` when 2xx; otherwise an error naming the problem (its ``code``)."""
    if response.is_success:
        return response
    raise httpx.HTTPStatusError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} "
        f"{response.text[:500]}",
        request=response.request,
        response=response,
    )


async def _gather(jobs: list[Any], concurrency: int) -> list[Any]:
    """Run coroutines with at most ``concurrency`` in flight, results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def submit(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    learners = quiz_takers(data, scenario="submit")
    answers = {quiz: right_answers(quiz, data.sizes.questions) for _, quiz in learners}
    reads: Requests = [(f"/api/v1/quizzes/{quiz}", headers) for headers, quiz in learners]
    async with client(servers.service.url, load) as http:

        async def start(headers: dict[str, str], quiz: str) -> tuple[str, dict[str, str], str]:
            response = await http.post(f"/api/v1/quizzes/{quiz}/attempts", headers=headers)
            return checked(response).json()["id"], headers, quiz

        async def open_attempts() -> list[tuple[str, dict[str, str], str]]:
            return await _gather([start(h, q) for h, q in learners], load.concurrency)

        async def send(attempt: str, headers: dict[str, str], quiz: str) -> None:
            response = await http.post(
                f"/api/v1/quiz-attempts/{attempt}/submit",
                json={"answers": answers[quiz]},
                headers={**headers, "Idempotency-Key": f"bench-{attempt}"},
            )
            assert checked(response).json()["score"] == data.sizes.questions, response.text

        async def closed(attempts: list[tuple[str, dict[str, str], str]]) -> float:
            started = time.perf_counter()
            await _gather([send(*a) for a in attempts], load.concurrency)
            return len(attempts) / (time.perf_counter() - started)

        async def at_rate(
            attempts: list[tuple[str, dict[str, str], str]], rate: float
        ) -> list[float]:
            async def one(n: int) -> bool:
                await send(*attempts[n])
                return True

            return await at_fixed_rate(one, count=len(attempts), rate=rate)

        await closed_loop(http, reads, concurrency=load.concurrency, seconds=load.warmup_seconds)
        peak: dict[str, list[float]] = {"service": [], "baseline": []}
        for _ in range(load.rounds):
            peak["service"].append(await closed(await open_attempts()))
            peak["baseline"].append(
                await closed_loop(
                    http, reads, concurrency=load.concurrency, seconds=load.peak_seconds
                )
            )
        rate = 0.5 * statistics.median(peak["service"])
        latencies: dict[str, list[list[float]]] = {"service": [], "baseline": []}
        for _ in range(load.rounds):
            attempts = await open_attempts()
            latencies["service"].append(await at_rate(attempts, rate))
            latencies["baseline"].append(
                await open_loop(http, reads, rate=rate, seconds=len(attempts) / rate)
            )
    peak_s = {name: summary(values) for name, values in peak.items()}
    latency_s = {name: percentiles(rounds) for name, rounds in latencies.items()}
    return {
        "questions": data.sizes.questions,
        "learners_per_round": len(learners),
        "rounds": load.rounds,
        "grading": grading_cost(load.rounds, questions=data.sizes.questions),
        "peak_requests_per_second": {**peak_s, "per_round": peak},
        "open_loop_rate": rate,
        "latency_ms": latency_s,
        "ratio_throughput": peak_s["service"]["median"] / peak_s["baseline"]["median"],
        "ratio_p99": latency_s["service"]["p99"]["median"] / latency_s["baseline"]["p99"]["median"],
    }
