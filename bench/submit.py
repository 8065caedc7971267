"""Issue [5/8] benchmark: submitting a 20-question quiz, and what grading costs.

1. Grading cost: ``grade()`` over the 20 questions of the quiz, per question, against a
   baseline in the same run that only compares each answer with its key (``==``): the
   ratio says what the rules (normalisation, partial credit, shape checks) cost.
2. Submit: the service as its own uvicorn process on embedded stores. LEARNERS learners
   each start an attempt; peak = closed loop of submits (CONCURRENCY clients), then an
   open loop at 50 % of that peak, p99 from scheduled send times (no coordinated
   omission). Both alternated over ROUNDS rounds with fresh attempts.

Run: .venv/bin/python -m bench.submit [--learners 400] [--rounds 3]
"""

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import percentile, summary, write_result
from bench.outline import MONGO_DB, server, service_env
from syllabus.assessment.grading import grade
from syllabus.config import to_asyncpg_url
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.embedded import embedded_stores, free_port

TYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_text",
    "numeric",
    "ordering",
    "matching",
)


def question(n: int) -> tuple[dict[str, Any], Any]:
    """A question of every type in turn, and a right answer."""
    kind = TYPES[n % len(TYPES)]
    base: dict[str, Any] = {
        "id": f"question:bench-{n}",
        "type": kind,
        "prompt": f"Q{n}?",
        "points": 1,
    }
    opts = [{"id": i, "text": f"Option {i}"} for i in "abcd"]
    shapes: dict[str, tuple[dict[str, Any], Any]] = {
        "single_choice": ({"options": opts, "correct": "b"}, "b"),
        "multiple_choice": ({"options": opts, "correct": ["a", "c"]}, ["a", "c"]),
        "true_false": ({"correct": True}, True),
        "short_text": ({"accepted": ["Производная", "derivative"]}, "  производная "),
        "numeric": ({"value": 0.25, "tolerance": 0.001}, 0.2505),
        "ordering": ({"options": opts, "order": ["c", "a", "d", "b"]}, ["c", "a", "d", "b"]),
        "matching": (
            {"left": opts[:3], "right": opts[1:], "pairs": {"a": "b", "b": "c", "c": "d"}},
            {"a": "b", "b": "c", "c": "d"},
        ),
    }
    extra, answer = shapes[kind]
    return {**base, **extra}, answer


def folder_with_quiz(root: Path) -> tuple[Path, list[dict[str, Any]]]:
    questions = [question(n) for n in range(20)]
    (root / "courses" / "bench" / "lessons").mkdir(parents=True)
    (root / "categories.json").write_text(json.dumps([{"slug": "bench", "name": "B"}]))
    (root / "courses" / "bench" / "lessons" / "l.mdx").write_text(
        "---\nid: lesson:bench-intro\ntitle: Intro\n---\n\nText\n"
    )
    (root / "courses" / "bench" / "quizzes").mkdir()
    (root / "courses" / "bench" / "quizzes" / "q.json").write_text(
        json.dumps({"id": "quiz:bench", "title": "Bench", "questions": [q for q, _ in questions]})
    )
    (root / "courses" / "bench" / "course.json").write_text(
        json.dumps(
            {
                "id": "course:bench",
                "title": "Bench",
                "level": "Beginner",
                "category": "bench",
                "status": "published",
                "modules": [
                    {
                        "id": "module:bench",
                        "title": "M",
                        "order": 1,
                        "items": ["lesson:bench-intro", "quiz:bench"],
                    }
                ],
            }
        )
    )
    answers = [{"question_id": q["id"], "answer": a} for q, a in questions]
    return root, answers


def grading_cost(rounds: int, repeat: int = 2000) -> dict[str, Any]:
    stored: list[tuple[dict[str, Any], Any]] = []
    for n in range(20):
        q, answer = question(n)
        key: dict[str, Any] = {
            k: q.pop(k)
            for k in ("correct", "accepted", "value", "tolerance", "order", "pairs")
            if k in q
        }
        answer_key: dict[str, Any] = {"type": q["type"], **key}
        stored.append(({**q, "key": answer_key}, answer))
    graded, compared = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for q, answer in stored:
                grade(q, answer)
        graded.append((time.perf_counter() - started) / (repeat * 20) * 1e6)
        started = time.perf_counter()
        for _ in range(repeat):
            for q, answer in stored:
                _ = answer == next(iter(q["key"].values()))
        compared.append((time.perf_counter() - started) / (repeat * 20) * 1e6)
    return {
        "microseconds_per_question": summary(graded),
        "baseline_equality_microseconds": summary(compared),
        "ratio": summary(graded)["median"] / summary(compared)["median"],
    }


async def run(*, learners: int, rounds: int, concurrency: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "benchmark": "submit",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    result["grading"] = grading_cost(rounds)
    with (
        tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch,
        embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo),
    ):
        assert pg is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg)
        folder, answers = folder_with_quiz(Path(scratch) / "content")
        engine = create_engine(to_asyncpg_url(pg), pool_size=1, max_overflow=0)
        client = create_client(mongo)
        await init_documents(client[MONGO_DB])
        assert (
            await load_folder(
                folder, database=client[MONGO_DB], sessionmaker=create_sessionmaker(engine)
            )
        ).ok
        await client.close()
        await engine.dispose()
        env = service_env(pg, mongo)
        with server(
            ["syllabus.main:create_app", "--factory"], env, free_port(), "/health/live"
        ) as url:
            async with httpx.AsyncClient(
                base_url=url, timeout=60, limits=httpx.Limits(max_connections=128)
            ) as http:
                tokens = []
                for n in range(learners):
                    email = f"bench-{n}@example.org"
                    await http.post(
                        "/api/v1/auth/register",
                        json={"email": email, "password": "bench password", "name": "B"},
                    )
                    token = (
                        await http.post(
                            "/api/v1/auth/login",
                            json={"email": email, "password": "bench password"},
                        )
                    ).json()["access_token"]
                    headers = {"Authorization": f"Bearer {token}"}
                    (
                        await http.post(
                            "/api/v1/enrollments",
                            json={"course_id": "course:bench"},
                            headers=headers,
                        )
                    ).raise_for_status()
                    tokens.append(headers)

                async def open_attempts() -> list[tuple[str, dict[str, str]]]:
                    attempts = []
                    for headers in tokens:
                        response = await http.post(
                            "/api/v1/quizzes/quiz:bench/attempts", headers=headers
                        )
                        response.raise_for_status()
                        attempts.append((response.json()["id"], headers))
                    return attempts

                async def one(attempt: str, headers: dict[str, str]) -> None:
                    response = await http.post(
                        f"/api/v1/quiz-attempts/{attempt}/submit",
                        json={"answers": answers},
                        headers={**headers, "Idempotency-Key": f"bench-{attempt}"},
                    )
                    response.raise_for_status()
                    assert response.json()["score"] == 20.0

                async def closed(attempts: list[tuple[str, dict[str, str]]]) -> float:
                    queue = list(attempts)

                    async def worker() -> None:
                        while queue:
                            await one(*queue.pop())

                    started = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(concurrency)))
                    return len(attempts) / (time.perf_counter() - started)

                async def at_rate(attempts: list[tuple[str, dict[str, str]]], rate: float) -> float:
                    start = time.perf_counter()
                    latencies: list[float] = []

                    async def timed(n: int, attempt: str, headers: dict[str, str]) -> None:
                        due = start + n / rate
                        await asyncio.sleep(max(0.0, due - time.perf_counter()))
                        await one(attempt, headers)
                        latencies.append((time.perf_counter() - due) * 1000)

                    await asyncio.gather(*(timed(n, *a) for n, a in enumerate(attempts)))
                    return percentile(latencies, 99)

                peaks, p99s = [], []
                for _ in range(rounds):
                    peaks.append(await closed(await open_attempts()))
                    p99s.append(await at_rate(await open_attempts(), 0.5 * peaks[-1]))
    result["submits_per_second"] = summary(peaks)
    result["p99_ms_at_half_peak"] = summary(p99s)
    result["learners"] = learners
    result["questions"] = 20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    write_result(
        "submit",
        asyncio.run(run(learners=args.learners, rounds=args.rounds, concurrency=args.concurrency)),
    )


if __name__ == "__main__":
    main()
