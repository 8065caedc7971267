"""Issue [6/8] benchmark: how long each analytics view takes on a large dataset.

Dataset: the outline benchmark's (200 courses x 40 lessons, 20,000 learners, 1,000,000
lesson_progress rows) plus ATTEMPTS submitted quiz attempts with 5-question answer
snapshots, a matching activity log (one event per progress row and per attempt), all
written with COPY, and a quarter of the enrollments marked completed. Each view is then read in full, every row fetched to the client
(``SELECT * FROM analytics.<view>``), ROUNDS times -- not wrapped in ``count(*)``, which
would let the planner drop the views' LEFT JOINs. The baseline is a sequential scan of
the table the views read most (``SELECT count(*) FROM lesson_progress``), timed in the
same rounds.

Run: .venv/bin/python -m bench.views [--courses 200] [--lessons 40] [--learners 20000]
     [--progress 1000000] [--attempts 100000] [--rounds 3]
"""

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.harness import summary, write_result
from bench.outline import build_dataset
from syllabus.db import migrate
from syllabus.embedded import embedded_stores
from syllabus.kit.ids import uuid7

VIEWS = (
    "course_funnel",
    "lesson_completion",
    "quiz_summary",
    "question_items",
    "daily_active_learners",
    "weekly_active_learners",
    "streak_distribution",
    "time_to_complete",
    "learner_course",
)


async def add_attempts_and_activity(postgres_url: str, attempts: int) -> dict[str, float]:
    started = time.perf_counter()
    rng = random.Random(11)
    connection = await asyncpg.connect(postgres_url)
    try:
        enrollments = await connection.fetch(
            "SELECT e.user_id, e.course_id, i.content_id AS quiz FROM enrollments e "
            "JOIN content_index i ON i.course_id = e.course_id AND i.item_type = 'quiz'"
        )
        now = datetime.now(UTC)
        rows = []
        counters: dict[tuple[Any, str], int] = {}
        for n in range(attempts):
            enrollment = enrollments[n % len(enrollments)]
            key = (enrollment["user_id"], enrollment["quiz"])
            counters[key] = counters.get(key, 0) + 1
            right = [rng.random() < 0.7 for _ in range(5)]
            score = float(sum(right))
            when = now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440))
            details = {
                "questions": [
                    {"question_id": f"question:{enrollment['quiz'][5:]}-{q}", "correct": ok}
                    for q, ok in enumerate(right)
                ]
            }
            rows.append(
                (
                    uuid7(),
                    enrollment["user_id"],
                    enrollment["course_id"],
                    enrollment["quiz"],
                    counters[key],
                    when - timedelta(minutes=5),
                    when,
                    score,
                    5.0,
                    score >= 3,
                    json.dumps(details),
                )
            )
        await connection.copy_records_to_table(
            "quiz_attempts",
            records=rows,
            columns=[
                "id",
                "user_id",
                "course_id",
                "quiz_content_id",
                "attempt_no",
                "started_at",
                "submitted_at",
                "score",
                "max_score",
                "passed",
                "details",
            ],
        )
        activity = await connection.fetch(
            "SELECT user_id, course_id, lesson_content_id, status FROM lesson_progress"
        )
        events = [
            (
                uuid7(),
                row["user_id"],
                row["status"],
                "lesson",
                row["lesson_content_id"],
                row["course_id"],
                now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440)),
            )
            for row in activity
        ]
        events += [
            (uuid7(), r[1], "passed" if r[9] else "failed", "quiz", r[3], r[2], r[6]) for r in rows
        ]
        events.sort(key=lambda e: e[6])  # the log is written in time order
        await connection.copy_records_to_table(
            "activity_log",
            records=events,
            columns=[
                "id",
                "actor_id",
                "verb",
                "object_type",
                "object_id",
                "course_id",
                "occurred_at",
            ],
        )
        # a quarter of the enrollments finished, 1-60 days after enrolling (time_to_complete)
        await connection.execute(
            "UPDATE enrollments SET enrolled_at = now() - interval '90 days', "
            "status = 'completed', completed_at = now() - interval '90 days' "
            "+ (1 + floor(random() * 60)) * interval '1 day' "
            "WHERE random() < 0.25"
        )
        await connection.execute("ANALYZE")
        return {
            "attempts": float(len(rows)),
            "activity_rows": float(len(events)),
            "seconds": time.perf_counter() - started,
        }
    finally:
        await connection.close()


async def run(
    *, courses: int, lessons: int, learners: int, progress: int, attempts: int, rounds: int
) -> dict[str, Any]:
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg)
        started = time.perf_counter()
        _, timings = await build_dataset(
            pg, mongo, courses=courses, lessons=lessons, learners=learners, progress=progress
        )
        extra = await add_attempts_and_activity(pg, attempts)
        generation = time.perf_counter() - started
        connection = await asyncpg.connect(pg)
        try:
            seconds: dict[str, list[float]] = {view: [] for view in (*VIEWS, "baseline")}
            rows_per_view: dict[str, int] = {}
            for _ in range(rounds):
                began = time.perf_counter()
                await connection.fetchval("SELECT count(*) FROM lesson_progress")
                seconds["baseline"].append(time.perf_counter() - began)
                for view in VIEWS:
                    began = time.perf_counter()
                    fetched = await connection.fetch(f"SELECT * FROM analytics.{view}")
                    seconds[view].append(time.perf_counter() - began)
                    rows_per_view[view] = len(fetched)
        finally:
            await connection.close()
    medians = {view: summary(values) for view, values in seconds.items()}
    base = medians["baseline"]["median"]
    return {
        "benchmark": "views",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {**timings, **extra, "generation_seconds": generation},
        "rounds": rounds,
        "rows": rows_per_view,
        "seconds": medians,
        "ratio_to_baseline": {view: s["median"] / base for view, s in medians.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--progress", type=int, default=1_000_000)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    write_result("views", asyncio.run(run(**vars(args))))


if __name__ == "__main__":
    main()
