"""Alembic environment (async). Run through ``syllabus db upgrade`` or the tests.

The URL comes from ``config.attributes["url"]`` or the Syllabus settings (the owner's,
``SYLLABUS_POSTGRES_OWNER_URL``, when set: migrations run as the tables' owner).
"""

import asyncio
from logging.config import fileConfig
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.sql.sqltypes import AutoString

from syllabus.config import load_tool_settings, to_asyncpg_url
from syllabus.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: object, _context: AutogenContext) -> str | Literal[False]:
    """Write SQLModel's AutoString as plain ``sa.String()`` so revisions need no sqlmodel."""
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    return False


def _settings_url() -> str:
    settings = load_tool_settings()
    return to_asyncpg_url(settings.postgres_owner_url or settings.sqlalchemy_url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
        render_item=_render_item,
    )


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("url") or _settings_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.attributes.get("url") or _settings_url()
    asyncio.run(_run_async(to_asyncpg_url(url)))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
