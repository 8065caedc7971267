"""Running the Alembic migrations from code (the CLI, the dev server and the tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from syllabus.config import to_asyncpg_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(*, url: str | None = None) -> Config:
    """A config that needs no alembic.ini lookup and leaves the caller's logging alone."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.attributes["url"] = to_asyncpg_url(url)
    return config


def upgrade(*, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url=url), revision)


def downgrade(*, url: str, revision: str) -> None:
    command.downgrade(alembic_config(url=url), revision)


def current(*, url: str) -> None:
    command.current(alembic_config(url=url), verbose=False)
