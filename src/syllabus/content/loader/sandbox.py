"""SQL practices' sample data checked where it will run: the loader makes each practice's
sandbox schema (:mod:`syllabus.db.sandbox`) and runs its reference query there before
anything is written, so a type PostgreSQL does not know, a value that does not fit its
column or a reference query that fails is a problem at the practice's file, not a broken
check later. The schema is named by the data, so making it early is harmless: the load
that follows (or a later one) uses the same one; a dry run only checks the types."""

from dataclasses import dataclass

import asyncpg

from syllabus.content.loader.problems import FileProblem
from syllabus.db.sandbox import QueryRefused, SampleTable, Sandbox, schema_for


@dataclass(frozen=True)
class SqlPractice:
    """An SQL practice with sample data, where it was read (for problems)."""

    file: str
    line: int
    practice_id: str
    tables: tuple[SampleTable, ...]
    reference: str


async def sample_data_problems(
    sandbox: Sandbox, practices: list[SqlPractice], *, dry_run: bool
) -> list[FileProblem]:
    problems: list[FileProblem] = []
    for practice in practices:

        def problem(message: str, practice: SqlPractice = practice) -> None:
            problems.append(FileProblem(practice.file, practice.line, "sample_data", message))

        types = [kind for table in practice.tables for _, kind in table.columns]
        unknown = await sandbox.unknown_types(types)
        if unknown:
            problem(f"PostgreSQL has no type {', '.join(unknown)}")
            continue
        if dry_run:
            continue
        schema = schema_for(practice.practice_id, practice.tables)
        try:
            await sandbox.ensure(schema, practice.tables)
        except (asyncpg.PostgresError, ValueError) as error:
            problem(f"the sample data does not load: {error}")
            continue
        try:
            result = await sandbox.run(schema, practice.reference)
        except QueryRefused as refused:
            problem(f"reference_solution does not run on the sample data: {refused}")
            continue
        if result.truncated:
            problem(
                f"reference_solution returns more than {sandbox.max_rows} rows "
                "(SYLLABUS_SQL_CHECK_MAX_ROWS): no answer could match it"
            )
    return problems
