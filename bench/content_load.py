"""Loading content, against raw MongoDB writes.

A generated folder of LESSONS lessons (courses of 50, each with a 5-question quiz), on
the suite's servers but in databases of its own: one migrated PostgreSQL database for
the run, new MongoDB databases per round. Alternated for ROUNDS rounds:
  A: ``load_folder`` (read + validate + build + versioned MongoDB writes in a
     transaction + PostgreSQL catalog sync), as ``syllabus content load`` runs it;
  B: a raw ``bulk_write`` of the very same documents, already built: the floor;
  C: A again on the unchanged folder (must write nothing).
Goals: A/B <= 1.5; A/C >= 20.
"""

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from pymongo import InsertOne
from sqlalchemy.engine import make_url

from bench.dataset import Dataset, generate
from bench.harness import summary
from syllabus.config import to_asyncpg_url
from syllabus.content.documents import DOCUMENT_MODELS
from syllabus.content.loader.build import build
from syllabus.content.loader.read import Reader
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.main import wire


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


async def own_database(postgres_url: str, name: str) -> str:
    """A new, migrated database called ``name`` on the same PostgreSQL server."""
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(migrate.upgrade, url=url)
    return url


async def content_load(data: Dataset, *, lessons: int, rounds: int) -> dict[str, Any]:
    postgres_url = await own_database(data.postgres_url, "bench_content_load")
    wire()
    with tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch:
        folder = Path(scratch) / "content"
        generate(folder, lessons=lessons)
        engine = create_engine(to_asyncpg_url(postgres_url), pool_size=2, max_overflow=0)
        sessions = create_sessionmaker(engine)
        client = create_client(data.mongo_url)
        await init_documents(
            client["bench_indexes"], DOCUMENT_MODELS
        )  # Beanie documents need binding
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
        "lessons": lessons,
        "documents": sum(len(d) for d in documents.values()),
        "rounds": rounds,
        "seconds": {"load": first_s, "raw_bulk_write": raw_s, "unchanged_reload": again_s},
        "ratio_load_over_raw": first_s["median"] / raw_s["median"],
        "ratio_load_over_unchanged_reload": first_s["median"] / again_s["median"],
        "goals": {"ratio_load_over_raw": "<= 1.5", "ratio_load_over_unchanged_reload": ">= 20"},
    }
