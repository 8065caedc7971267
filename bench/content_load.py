"""Issue [3/8] benchmark: loading generated content, against raw MongoDB writes.

In one run, alternated for ROUNDS rounds, each into fresh databases:
  A: ``syllabus content load`` of a generated folder (read + validate + build + versioned
     MongoDB writes in a transaction + PostgreSQL catalog sync);
  B: a raw ``bulk_write`` of the very same documents (already built) - the floor;
  C: the same load again, unchanged (must write nothing).
Reported: medians (min-max) of A, B, C, and the ratios A/B (goal <= 1.5) and A/C
(goal >= 20).

Run: .venv/bin/python -m bench.content_load [--lessons 500] [--rounds 5]
"""

import argparse
import asyncio
import json
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import InsertOne

from bench.harness import summary, write_result
from syllabus.config import to_asyncpg_url
from syllabus.content.loader.build import build
from syllabus.content.loader.read import Reader
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.embedded import embedded_stores

PARAGRAPH = (
    "Resources are named with nouns and manipulated with the uniform interface of HTTP. "
    "A representation carries the state; links tell the client what it can do next. "
) * 6


def generate(root: Path, *, lessons: int, per_course: int = 50) -> Path:
    """A folder of ``lessons`` lessons in courses of ``per_course``, each with a quiz."""
    (root / "courses").mkdir(parents=True)
    (root / "categories.json").write_text(
        json.dumps([{"slug": "bench", "name": "Benchmark"}]), encoding="utf-8"
    )
    for c in range(-(-lessons // per_course)):
        slug = f"bench-{c}"
        folder = root / "courses" / slug
        (folder / "lessons").mkdir(parents=True)
        (folder / "quizzes").mkdir()
        ids = []
        for n in range(min(per_course, lessons - c * per_course)):
            lesson_id = f"lesson:{slug}-{n}"
            ids.append(lesson_id)
            (folder / "lessons" / f"{n:03}.mdx").write_text(
                f"---\nid: {lesson_id}\ntitle: Lesson {n}\nduration_minutes: 9\n"
                f"objectives: [Understand part {n}]\n---\n\n# Lesson {n}\n\n{PARAGRAPH}\n\n"
                '<Callout type="tip">\nKeep URLs stable.\n</Callout>\n\n'
                "```http\nGET /courses HTTP/1.1\n```\n",
                encoding="utf-8",
            )
        quiz = {
            "id": f"quiz:{slug}",
            "title": "Check",
            "questions": [
                {
                    "id": f"question:{slug}-{q}",
                    "type": "single_choice",
                    "prompt": f"Question {q}?",
                    "options": [{"id": "a", "text": "Yes"}, {"id": "b", "text": "No"}],
                    "correct": "a",
                }
                for q in range(5)
            ],
        }
        (folder / "quizzes" / "check.json").write_text(json.dumps(quiz), encoding="utf-8")
        course = {
            "id": f"course:{slug}",
            "title": f"Benchmark course {c}",
            "level": "Beginner",
            "category": "bench",
            "status": "published",
            "modules": [
                {
                    "id": f"module:{slug}",
                    "title": "All",
                    "order": 1,
                    "items": [*ids, f"quiz:{slug}"],
                }
            ],
        }
        (folder / "course.json").write_text(json.dumps(course), encoding="utf-8")
    return root


def raw_documents(folder: Path) -> dict[str, list[dict[str, Any]]]:
    reader = Reader(folder)
    built = build(reader.read())
    assert not reader.problems
    return {
        collection: [
            {**doc.model_dump(mode="python", exclude={"id", "revision_id"}), "_id": doc.id}
            for doc in docs
        ]
        for collection, docs in built.documents.items()
    }


async def run(*, lessons: int, rounds: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch,
        embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (
            postgres_url,
            mongo_url,
        ),
    ):
        assert postgres_url
        assert mongo_url
        folder = generate(Path(scratch) / "content", lessons=lessons)
        await asyncio.to_thread(migrate.upgrade, url=postgres_url)
        engine = create_engine(to_asyncpg_url(postgres_url), pool_size=2, max_overflow=0)
        sessions = create_sessionmaker(engine)
        client = create_client(mongo_url)
        await init_documents(client["bench_indexes"])  # Beanie documents need binding
        documents = raw_documents(folder)
        first: list[float] = []
        raw: list[float] = []
        again: list[float] = []
        try:
            for _ in range(rounds):
                database = client[f"bench_{uuid.uuid4().hex[:8]}"]
                started = time.perf_counter()
                result = await load_folder(folder, database=database, sessionmaker=sessions)
                first.append(time.perf_counter() - started)
                assert result.ok, result.problems
                started = time.perf_counter()
                repeat = await load_folder(folder, database=database, sessionmaker=sessions)
                again.append(time.perf_counter() - started)
                assert repeat.mongo_writes == 0
                await client.drop_database(database.name)

                database = client[f"bench_{uuid.uuid4().hex[:8]}"]
                started = time.perf_counter()
                for collection, docs in documents.items():
                    if docs:
                        await database[collection].bulk_write([InsertOne(dict(d)) for d in docs])
                raw.append(time.perf_counter() - started)
                await client.drop_database(database.name)
        finally:
            await client.close()
            await engine.dispose()
    first_s, raw_s, again_s = summary(first), summary(raw), summary(again)
    return {
        "benchmark": "content_load",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "lessons": lessons,
        "documents": sum(len(d) for d in documents.values()),
        "rounds": rounds,
        "seconds": {"load": first_s, "raw_bulk_write": raw_s, "unchanged_reload": again_s},
        "ratio_load_over_raw": first_s["median"] / raw_s["median"],
        "ratio_load_over_unchanged_reload": first_s["median"] / again_s["median"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lessons", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(run(lessons=args.lessons, rounds=args.rounds))
    write_result("content_load", result)


if __name__ == "__main__":
    main()
