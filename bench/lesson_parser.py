"""Loading lessons with the markdown-it-py parser against the hand-written one it replaced.

The same generated folder (bench/dataset.py: 500 lessons in courses of 50, each course
with a 5-question quiz) is loaded by ``load_folder`` into a new MongoDB database and a new
migrated PostgreSQL database, alternating per round between
  A: today's loader (markdown-it-py, mdit-py-plugins, the MDX plugin, typed blocks);
  B: the same loader with the old hand-written splitter (``bench/legacy_mdx.py``) in the
     place of ``parse_body``: the baseline, measured in the same run.
Also timed: parsing alone (every lesson body once, no stores) with either parser.
Goal: A/B <= 1.2 for the whole load.

Run alone: .venv/bin/python -m bench.lesson_parser [--lessons 500] [--rounds 7]
"""

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import legacy_mdx
from bench.content_load import own_database
from bench.dataset import generate
from bench.harness import summary, write_result
from syllabus.config import to_asyncpg_url
from syllabus.content.documents import DOCUMENT_MODELS
from syllabus.content.loader import read
from syllabus.content.loader.lesson import parse_body
from syllabus.content.loader.parse import split_lesson
from syllabus.content.loader.problems import Problems
from syllabus.content.loader.run import load_folder
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.embedded import embedded_stores
from syllabus.main import wire


@contextmanager
def parser(parse: Callable[..., Any]) -> Iterator[None]:
    """The loader reads lesson bodies with ``parse`` for the duration."""
    names = vars(read)  # the module's namespace: where read_lesson looks the parser up
    original = names["parse_body"]
    names["parse_body"] = parse
    try:
        yield
    finally:
        names["parse_body"] = original


def parse_only(folder: Path, parse: Callable[..., Any]) -> float:
    bodies = []
    for path in sorted(folder.rglob("*.mdx")):
        split = split_lesson(path.name, path.read_text(encoding="utf-8"), Problems())
        assert split is not None
        bodies.append(split.body)
    started = time.perf_counter()
    for body in bodies:
        parse(body, mdx=True)
    return time.perf_counter() - started


async def lesson_parser(
    postgres_url: str, mongo_url: str, *, lessons: int, rounds: int
) -> dict[str, Any]:
    postgres = await own_database(postgres_url, "bench_lesson_parser")
    engine = create_engine(to_asyncpg_url(postgres), pool_size=2, max_overflow=0)
    sessions = create_sessionmaker(engine)
    client = create_client(mongo_url)
    wire()
    await init_documents(client["bench_indexes"], DOCUMENT_MODELS)  # Beanie needs binding
    seconds: dict[str, list[float]] = {"new": [], "old": [], "parse_new": [], "parse_old": []}
    try:
        with tempfile.TemporaryDirectory(prefix="syl-parse-") as scratch:
            folder = Path(scratch) / "content"
            generate(folder, lessons=lessons)
            for round_no in range(rounds):
                order = ("new", "old") if round_no % 2 == 0 else ("old", "new")
                for which in order:
                    parse = parse_body if which == "new" else legacy_mdx.parse_body
                    database = client[f"bench_{uuid.uuid4().hex[:8]}"]
                    with parser(parse):
                        started = time.perf_counter()
                        result = await load_folder(folder, database=database, sessionmaker=sessions)
                        seconds[which].append(time.perf_counter() - started)
                    assert result.ok, result.problems
                    await client.drop_database(database.name)
                    seconds[f"parse_{which}"].append(parse_only(folder, parse))
    finally:
        await client.close()
        await engine.dispose()
    stats = {name: summary(values) for name, values in seconds.items()}
    return {
        "lessons": lessons,
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "seconds": stats,
        "ratio_load_new_over_old": stats["new"]["median"] / stats["old"]["median"],
        "ratio_parse_new_over_old": stats["parse_new"]["median"] / stats["parse_old"]["median"],
        "goals": {"ratio_load_new_over_old": "<= 1.2"},
    }


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--lessons", type=int, default=500)
    arguments.add_argument("--rounds", type=int, default=7)
    options = arguments.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert pg.superuser is not None  # a database of its own, one role for all
        assert mongo is not None
        result = asyncio.run(
            lesson_parser(pg.superuser, mongo, lessons=options.lessons, rounds=options.rounds)
        )
    write_result("lesson_parser", result)


if __name__ == "__main__":
    main()
