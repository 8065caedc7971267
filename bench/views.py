"""How long each analytics view takes on the suite's dataset (1,000,000 lesson_progress
rows, 100,000 quiz attempts with answer snapshots, an activity log for both).

Each view is read in full, every row fetched to the client (``SELECT * FROM
analytics.<view>``), ROUNDS times -- not wrapped in ``count(*)``, which would let the
planner drop the views' LEFT JOINs. The baseline, timed in the same rounds, is a
sequential scan of the table the views read most (``SELECT count(*) FROM
lesson_progress``). Goal from [6/8]: a view slower than 2 s gets a materialized twin;
each round also times refreshing every twin (``refresh:<twin>``, CONCURRENTLY).
"""

import time
from typing import Any

import asyncpg

from bench.dataset import Dataset
from bench.harness import summary
from syllabus.analytics.refresh import materialized, refresh

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
    # the dimensions (revision 0018)
    "learners",
    "courses",
    "course_items",
    # the materialized twins of the views that crossed 2 s (revision 0007)
    "question_items_mat",
    "streak_distribution_mat",
)


async def views(data: Dataset, *, rounds: int) -> dict[str, Any]:
    connection = await asyncpg.connect(data.postgres_url)
    try:
        twins = [f"refresh:{name}" for name in await materialized(connection)]
        seconds: dict[str, list[float]] = {view: [] for view in (*VIEWS, *twins, "baseline")}
        rows: dict[str, int] = {}
        for _ in range(rounds):
            began = time.perf_counter()
            await connection.fetchval("SELECT count(*) FROM lesson_progress")
            seconds["baseline"].append(time.perf_counter() - began)
            for done in await refresh(connection):  # first: the twins hold the dataset
                seconds[f"refresh:{done.name}"].append(done.seconds)
            for view in VIEWS:
                began = time.perf_counter()
                fetched = await connection.fetch(f"SELECT * FROM analytics.{view}")
                seconds[view].append(time.perf_counter() - began)
                rows[view] = len(fetched)
    finally:
        await connection.close()
    medians = {view: summary(values) for view, values in seconds.items()}
    base = medians["baseline"]["median"]
    return {
        "rounds": rounds,
        "rows": rows,
        "seconds": medians,
        "ratio_to_baseline": {view: s["median"] / base for view, s in medians.items()},
        "goals": {"seconds": "< 2 per view, or a materialized view"},
    }
