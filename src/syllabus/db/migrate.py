"""Running the Alembic migrations from code (the CLI, the dev server and the tests), as
the tables' owner, then giving the app's role its rights on whatever the schema now holds."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from syllabus.config import to_asyncpg_url
from syllabus.db.roles import grant_app

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(*, url: str | None = None) -> Config:
    """A config that needs no alembic.ini lookup and leaves the caller's logging alone."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.attributes["url"] = to_asyncpg_url(url)
    return config


def upgrade(*, url: str, revision: str = "head", app_role: str | None = None) -> int | None:
    """Migrate as the owner at ``url``; with ``app_role``, then grant it the app's rights
    (see :mod:`syllabus.db.roles`) and return how many tables it may use."""
    command.upgrade(alembic_config(url=url), revision)
    if app_role is None:
        return None
    return asyncio.run(_grant(url, app_role))


async def _grant(url: str, role: str) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(to_asyncpg_url(url), pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            return await grant_app(connection, role)
    finally:
        await engine.dispose()


def downgrade(*, url: str, revision: str) -> None:
    command.downgrade(alembic_config(url=url), revision)


def current(*, url: str) -> None:
    command.current(alembic_config(url=url), verbose=False)
