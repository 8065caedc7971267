"""The Alembic history builds the whole schema from empty and tears it down again, and
the models agree with it (nothing left for autogenerate to find)."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from syllabus.config import to_asyncpg_url
from syllabus.db import migrate
from syllabus.tables import metadata

OWN_FUNCTIONS = {"uuid_generate_v7", "set_updated_at"}


async def _schema(url: str) -> tuple[set[str], set[str]]:
    engine = create_async_engine(to_asyncpg_url(url))
    try:
        async with engine.connect() as connection:
            tables = set(
                (
                    await connection.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                )
                .scalars()
                .all()
            )
            functions = set(
                (
                    await connection.execute(
                        text(
                            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                            "ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
                        )
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    return tables, functions


async def test_upgrade_from_empty_downgrade_to_empty_and_upgrade_again(
    scratch_database: str,
) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    tables, functions = await _schema(scratch_database)
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert functions >= OWN_FUNCTIONS

    await asyncio.to_thread(migrate.downgrade, url=scratch_database, revision="base")
    tables, functions = await _schema(scratch_database)
    assert tables == {"alembic_version"}
    assert not functions & OWN_FUNCTIONS

    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    tables, _ = await _schema(scratch_database)
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_history_is_linear_with_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(len(r.nextrev) <= 1 for r in revisions)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def test_models_match_the_migrated_schema(connection: AsyncConnection) -> None:
    assert await connection.run_sync(_differences) == []
