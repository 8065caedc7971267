"""One load, end to end: read and validate everything, then write MongoDB, then
PostgreSQL. Used by ``syllabus content load``, ``syllabus dev`` and the tests."""

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.build import build
from syllabus.content.loader.load import (
    MongoDatabase,
    Plan,
    Progress,
    plan_changes,
    sync_catalog,
    write_mongo,
)
from syllabus.content.loader.problems import Problem
from syllabus.content.loader.read import Reader
from syllabus.db.sql import session_scope


@dataclass
class LoadResult:
    problems: list[Problem] = field(default_factory=list)
    plan: Plan | None = None
    mongo_writes: int = 0
    catalog_error: str | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and self.catalog_error is None


async def load_folder(
    root: Path,
    *,
    database: MongoDatabase,
    sessionmaker: async_sessionmaker[AsyncSession],
    dry_run: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    reader = Reader(root)
    bundle = reader.read()
    if reader.problems:
        return LoadResult(problems=reader.problems.sorted())
    built = build(bundle)
    plan = await plan_changes(database, built, prune=prune)
    if dry_run:
        return LoadResult(plan=plan, dry_run=True)
    writes = await write_mongo(database, plan, progress=progress)
    try:
        async with session_scope(sessionmaker) as session:
            await sync_catalog(session, built, plan)
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return LoadResult(plan=plan, mongo_writes=writes, catalog_error=reason)
    return LoadResult(plan=plan, mongo_writes=writes)
