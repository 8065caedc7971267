"""One load, end to end: read and validate everything, then write MongoDB, then
PostgreSQL. Used by ``syllabus content load``, ``syllabus dev`` and the tests."""

import asyncio
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.build import build
from syllabus.content.loader.diff import Difference, differences
from syllabus.content.loader.load import (
    MongoDatabase,
    Notice,
    Plan,
    Progress,
    catalog_fingerprint,
    check_outside,
    mongo_fingerprint,
    plan_catalog,
    plan_changes,
    sync_catalog,
    write_mongo,
)
from syllabus.content.loader.problems import FileProblem
from syllabus.content.loader.read import DEFAULT_LIMITS, ReadLimits, read_folder, read_source
from syllabus.content.loader.sandbox import sample_data_problems
from syllabus.content.sources import SOURCE_FILE
from syllabus.db.sandbox import Sandbox
from syllabus.db.sql import session_scope
from syllabus.kit.standards import DEFAULT_CURRENCY

LOADER_FORMAT = "2"
"""Bump when reading, validation or building changes what a folder turns into: the same
bytes must then be loaded again, not recognised as already loaded. 2: lessons parsed by
markdown-it-py into typed blocks with ids, ``.md`` lessons, front matter kept in ``meta``."""
CONTENT_SUFFIXES = (".json", ".mdx", ".md")


@dataclass
class LoadResult:
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    plan: Plan | None = None
    diffs: dict[str, Difference] = field(default_factory=dict)
    mongo_writes: int = 0
    catalog_error: str | None = None
    dry_run: bool = False
    unchanged: bool = False
    fingerprint: str = ""
    source: str | None = None
    """The source the folder names (``source.json``), or ``None``."""

    @property
    def ok(self) -> bool:
        return not self.problems and self.catalog_error is None


def folder_fingerprint(
    root: Path,
    *,
    prune: bool,
    every_source: bool = False,
    strict: bool = False,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> str | None:
    """SHA-256 over every content file's path and bytes (and how they are loaded), or
    ``None`` for a folder beyond ``limits`` (too many files, or one too large), found
    before any file is read: the reader then reports it, having read no more than the
    limits allow.

    Plain ``os.walk`` and one running digest: this is the whole cost of re-loading an
    unchanged folder, so it is kept to reading each file once.
    """
    scope = "every-source" if prune and every_source else prune
    digest = hashlib.sha256(
        f"syllabus-loader/{LOADER_FORMAT}/prune={scope}/strict={strict}\n".encode()
    )
    top = str(root)
    files = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(top)
        for name in names
        if name.endswith(CONTENT_SUFFIXES)
    )
    if len(files) > limits.max_files or any(
        os.path.getsize(path) > limits.max_file_bytes for path in files
    ):
        return None
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        relative = os.path.relpath(path, top).replace(os.sep, "/").encode()
        digest.update(b"%s\0%d\0" % (relative, len(data)))
        digest.update(data)
    return digest.hexdigest()


async def _already_loaded(
    fingerprint: str,
    source: str | None,
    database: MongoDatabase,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> bool:
    """Both stores say they hold exactly this folder state of ``source``: nothing to
    read or write."""

    async def in_catalog() -> str | None:
        try:
            async with session_scope(sessionmaker) as session:
                return await catalog_fingerprint(session, source)
        except (SQLAlchemyError, OSError):  # the full load meets (and reports) the same
            return None

    in_mongo, catalog = await asyncio.gather(mongo_fingerprint(database, source), in_catalog())
    return in_mongo == catalog == fingerprint


def unnamed_prune(root: Path) -> FileProblem:
    suggestion = "-".join(
        "".join(c if c.isalnum() else " " for c in root.resolve().name.lower()).split()
    )
    return FileProblem(
        SOURCE_FILE,
        1,
        "(file)",
        "missing: --prune archives only what this folder's source loaded before, so the "
        f'folder must name its source; create {SOURCE_FILE} with {{"id": '
        f'"{suggestion or "my-courses"}"}} (see docs/authoring.md, "Sources")',
    )


async def load_folder(
    root: Path,
    *,
    database: MongoDatabase,
    sessionmaker: async_sessionmaker[AsyncSession],
    dry_run: bool = False,
    prune: bool = False,
    every_source: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    notice: Notice | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    strict: bool = False,
    default_currency: str = DEFAULT_CURRENCY,
    sandbox: Sandbox | None = None,
) -> LoadResult:
    """Load ``root``; an unchanged folder (same files as the last load of its source in
    both stores) returns at once unless ``force``. ``prune`` archives what the folder's
    source loaded and the folder no longer has; with ``every_source``, whatever loaded it.
    ``notice`` hears what the load waits for (see ``write_mongo``). With ``sandbox``,
    SQL practices' sample data is made and their reference queries run first
    (:mod:`~syllabus.content.loader.sandbox`); without, at their first check."""
    source, source_problems = read_source(root)
    if source_problems:
        return LoadResult(problems=source_problems)
    if prune and source is None:
        return LoadResult(problems=[unnamed_prune(root)])
    fingerprint = folder_fingerprint(
        root, prune=prune, every_source=every_source, strict=strict, limits=limits
    )
    if (
        fingerprint is not None
        and not force
        and await _already_loaded(fingerprint, source, database, sessionmaker)
    ):
        return LoadResult(unchanged=True, dry_run=dry_run, fingerprint=fingerprint, source=source)
    bundle, problems, warnings = read_folder(root, limits=limits, strict=strict)
    if bundle.outside:  # named here, defined by another source (or nowhere)
        async with session_scope(sessionmaker) as session:
            problems = sorted([*problems, *await check_outside(session, bundle.outside)])
    if problems:
        return LoadResult(problems=problems, warnings=warnings, source=source)
    if fingerprint is None:  # the folder changed between the two looks; read it again
        return LoadResult(
            problems=[
                FileProblem(file=".", line=1, field="(folder)", message="changed while loading")
            ]
        )
    if sandbox is not None and bundle.sql_practices:
        problems = await sample_data_problems(sandbox, bundle.sql_practices, dry_run=dry_run)
        if problems:
            return LoadResult(problems=problems, warnings=warnings, source=source)
    built = build(bundle)
    del bundle  # what the catalog needs of its items is in ``built``; the rest can go
    plan = await plan_changes(
        database, built, source=source, prune=prune, every_source=every_source
    )
    # Read before anything is written: a conflict in PostgreSQL leaves MongoDB as it was.
    async with session_scope(sessionmaker) as session:
        await plan_catalog(
            session, built, plan, source=source, prune=prune, every_source=every_source
        )
    if plan.conflicts:
        return LoadResult(
            problems=[
                FileProblem(SOURCE_FILE, 1, content_id, message)
                for content_id, message in sorted(plan.conflicts)
            ],
            warnings=warnings,
            source=source,
        )
    if dry_run:
        diffs = await differences(database, plan)
        return LoadResult(
            plan=plan,
            dry_run=True,
            fingerprint=fingerprint,
            warnings=warnings,
            diffs=diffs,
            source=source,
        )
    writes = await write_mongo(
        database,
        plan,
        fingerprint=fingerprint,
        source=source,
        progress=progress,
        notice=notice,
    )
    try:
        async with session_scope(sessionmaker) as session:
            await sync_catalog(
                session,
                database,
                built,
                plan,
                fingerprint=fingerprint,
                folder=str(root),
                source=source,
                mongo_writes=writes,
                default_currency=default_currency,
            )
    except (SQLAlchemyError, OSError) as error:
        return LoadResult(
            plan=plan,
            mongo_writes=writes,
            catalog_error=str(getattr(error, "orig", None) or error).splitlines()[0],
            fingerprint=fingerprint,
            warnings=warnings,
            source=source,
        )
    return LoadResult(
        plan=plan, mongo_writes=writes, fingerprint=fingerprint, warnings=warnings, source=source
    )
