"""The ``syllabus`` command: run the service, manage the database.

Errors a user can fix (bad settings, a missing engine) print one line and exit 2;
no traceback wall.
"""

import datetime
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn, ParamSpec, TypeVar

import typer
from pymongo.errors import PyMongoError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import InterfaceError, OperationalError

from syllabus.config import (
    BASE_URL_PATTERN,
    ConfigError,
    Settings,
    load_settings,
    load_tool_settings,
    to_asyncpg_url,
    to_libpq_url,
)
from syllabus.db import migrate
from syllabus.db.roles import APP_PRIVILEGES, RoleError, user_of
from syllabus.embedded import (
    EmbeddedError,
    EmbeddedMongo,
    EmbeddedPostgres,
    PostgresUrls,
    embedded_stores,
)
from syllabus.observability.logs import configure_logging, logging_config

if TYPE_CHECKING:
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from syllabus.ai.notes import GenerationReport
    from syllabus.commerce.reconcile import Finding
    from syllabus.commerce.renew import Renewals
    from syllabus.content.loader.load import MongoDatabase
    from syllabus.content.loader.run import LoadResult
    from syllabus.doctor.findings import Report

app = typer.Typer(
    help="Syllabus: content (MongoDB) and progress (PostgreSQL) API for learning platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="PostgreSQL schema and connection.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
content_app = typer.Typer(
    help="Course content (MongoDB) and its catalog (PostgreSQL).", no_args_is_help=True
)
app.add_typer(content_app, name="content")
notes_app = typer.Typer(help="AI notes of lessons (docs/ai.md).", no_args_is_help=True)
app.add_typer(notes_app, name="notes")
analytics_app = typer.Typer(help="The analysts' SQL surface.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
exams_app = typer.Typer(help="Exam attempts.", no_args_is_help=True)
app.add_typer(exams_app, name="exams")
payments_app = typer.Typer(help="Payments (docs/payments.md).", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
out = Console()
SEED_FOLDER = Path("content_seed")

err = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


STORE_ERRORS = (OSError, PyMongoError, OperationalError, InterfaceError)


def _reason(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn configuration and start-up problems into one readable line and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ConfigError, EmbeddedError) as error:
            for line in str(error).splitlines():
                err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        except STORE_ERRORS as error:
            err.print(
                f"[bold red]error:[/] a database did not answer: {escape(_reason(error))}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=1) from None

    return wrapper


def _in_project() -> bool:
    """Whether the working directory is a Syllabus checkout (its pyproject.toml), where
    ``make run`` keeps ``.data/``."""
    import tomllib

    try:
        with Path("pyproject.toml").open("rb") as file:
            return bool(tomllib.load(file).get("project", {}).get("name") == "syllabus")
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _embedded_allowed(settings: Settings) -> None:
    """A tool run anywhere else, with no database named, would create and start an empty
    PostgreSQL under ``./.data`` and happily print its URL (or migrate it, or load into
    it): say so instead. An existing data folder, or one named on purpose, is used."""
    if (
        (settings.data_dir / "pg").exists()
        or "data_dir" in settings.model_fields_set
        or _in_project()
    ):
        return
    raise ConfigError(
        f"no database here: {Path.cwd()} is not a Syllabus project and has no "
        f"{settings.data_dir / 'pg'}; run this in the project folder, or set "
        "SYLLABUS_POSTGRES_URL (or SYLLABUS_DATA_DIR to create a dev database there)"
    )


Role = Literal["app", "owner"]


def _owner_url(settings: Settings) -> str:
    """The configured owner, or (dev, test) the app's URL when no owner is named: a
    developer's own server with one role for both."""
    if settings.postgres_owner_url is not None:
        return settings.postgres_owner_url
    if settings.env == "prod":
        raise ConfigError(
            "SYLLABUS_POSTGRES_OWNER_URL: required when SYLLABUS_ENV=prod: this command runs "
            "as the tables' owner (SYLLABUS_POSTGRES_URL is the API's role, DML only)"
        )
    assert settings.postgres_url is not None
    return settings.postgres_url


@contextmanager
def _postgres_urls(settings: Settings, *, keep_running: bool = False) -> Iterator[PostgresUrls]:
    """The configured URLs, or in dev/test the embedded dev server's (started if needed,
    in a project or an existing data folder only)."""
    if settings.postgres_url is not None:
        yield PostgresUrls(app=settings.postgres_url, owner=_owner_url(settings))
        return
    _embedded_allowed(settings)
    server = EmbeddedPostgres(
        settings.data_dir / "pg", after_use="keep" if keep_running else "stop"
    )
    urls = server.start()
    try:
        yield urls
    finally:
        server.stop()


@contextmanager
def _postgres_url(
    settings: Settings, *, role: Role = "app", keep_running: bool = False
) -> Iterator[str]:
    """One role's URL (:mod:`syllabus.db.roles`): the app's for what the API would do,
    the owner's for migrations and operators' commands."""
    if role == "owner" and settings.postgres_url is not None:
        yield _owner_url(settings)  # checked before any server is started
        return
    with _postgres_urls(settings, keep_running=keep_running) as urls:
        yield urls.owner if role == "owner" else urls.app


def _app_role(urls: PostgresUrls) -> str | None:
    """The role ``db upgrade`` grants the app's rights to: the user of the app's URL, unless
    it is the owner's too (one role for both, a developer's own server)."""
    app, owner = user_of(urls.app), user_of(urls.owner)
    if app is None:
        err.print(
            "warning: SYLLABUS_POSTGRES_URL names no user: grant its role the app's rights "
            "by hand (docs/operations.md)",
            highlight=False,
        )
        return None
    return None if app == owner else app


def _migrate(urls: PostgresUrls, *, revision: str = "head") -> None:
    """Migrate as the owner, then give the app's role its rights on every table."""
    try:
        granted = migrate.upgrade(url=urls.owner, revision=revision, app_role=_app_role(urls))
    except RoleError as error:
        raise ConfigError(f"SYLLABUS_POSTGRES_URL: {error}") from None
    if granted is not None:
        err.print(
            f"{user_of(urls.app)}: {APP_PRIVILEGES} on {granted} tables, nothing else",
            highlight=False,
        )


def _settings_for_tools() -> Settings:
    return load_tool_settings()


def _exit_cleanly_on_sigterm() -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; without a handler of ours
    that kills the process before the embedded stores are stopped."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


@contextmanager
def _mongo_url(settings: Settings) -> Iterator[str]:
    """The configured URL, or the embedded dev server's (reused while `make run` runs)."""
    if settings.mongo_url is not None:
        yield settings.mongo_url
        return
    if settings.env == "prod":
        raise ConfigError("SYLLABUS_MONGO_URL: required when SYLLABUS_ENV=prod")
    server = EmbeddedMongo(settings.data_dir / "mongo", log_path=settings.data_dir / "mongo.log")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@asynccontextmanager
async def _open_stores(
    *, postgres_url: str, mongo_url: str, settings: Settings, pool_size: int = 1
) -> AsyncIterator[tuple["async_sessionmaker[AsyncSession]", "MongoDatabase"]]:
    """A one-connection SQL engine and a Mongo client with Beanie bound, for one command."""
    from syllabus.content.documents import DOCUMENT_MODELS
    from syllabus.db.mongo import create_client, init_documents
    from syllabus.db.sql import create_engine, create_sessionmaker

    engine = create_engine(to_asyncpg_url(postgres_url), pool_size=pool_size, max_overflow=0)
    client = create_client(mongo_url)
    try:
        database = client[settings.mongo_db]
        await init_documents(database, DOCUMENT_MODELS)
        yield create_sessionmaker(engine), database
    finally:
        await client.close()
        await engine.dispose()


async def _load_content(
    folder: Path,
    *,
    postgres_url: str,
    mongo_url: str,
    settings: Settings,
    dry_run: bool,
    prune: bool,
    every_source: bool = False,
    force: bool = False,
    strict: bool = False,
) -> "LoadResult":
    from rich.progress import Progress

    from syllabus.content.loader.read import ReadLimits
    from syllabus.content.loader.run import load_folder
    from syllabus.db.sandbox import Sandbox
    from syllabus.main import wire

    wire()
    # SQL practices' sample data is made (and their reference queries run) at load.
    sandbox = Sandbox(
        reader_url=settings.model_copy(update={"postgres_url": postgres_url}).sandbox_reader_url,
        builder_url=to_libpq_url(postgres_url),
        timeout_ms=settings.sql_check_timeout_ms,
        max_rows=settings.sql_check_max_rows,
        max_connections=1,
    )
    async with (
        _open_stores(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings) as (
            sessionmaker,
            database,
        ),
        AsyncExitStack() as closing,
    ):
        closing.push_async_callback(sandbox.close)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"Loading {folder}", total=None)
            return await load_folder(
                folder,
                database=database,
                sessionmaker=sessionmaker,
                dry_run=dry_run,
                prune=prune,
                every_source=every_source,
                force=force,
                strict=strict,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                notice=lambda message: err.print(message, style="yellow", highlight=False),
                limits=ReadLimits(
                    max_files=settings.content_max_files,
                    max_file_bytes=settings.content_max_file_bytes,
                ),
                default_currency=settings.default_currency,
                sandbox=sandbox,
            )


def _report(result: "LoadResult", folder: Path) -> None:
    from syllabus.content.loader.report import print_result

    print_result(result, out=out, err=err, source=str(folder))
    if not result.ok:
        raise typer.Exit(code=1)


@content_app.command("load")
@friendly_errors
def content_load(
    folder: Annotated[Path, typer.Argument(help="The content folder, e.g. content_seed.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; write nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Archive what this folder's source (source.json) loaded before and the "
            "folder no longer has.",
        ),
    ] = False,
    prune_all_sources: Annotated[
        bool,
        typer.Option(
            "--prune-all-sources",
            help="Archive EVERYTHING not in this folder, content loaded from other folders "
            "included. Asks first, unless --yes.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm --prune-all-sources without asking.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Compare every document even if nothing changed.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Treat warnings (unknown front matter keys) as problems."),
    ] = False,
) -> None:
    """Validate FOLDER, then load it into MongoDB and sync the PostgreSQL catalog."""
    import asyncio

    settings = _settings_for_tools()
    with _postgres_url(settings) as postgres_url, _mongo_url(settings) as mongo_url:

        def run(*, dry: bool) -> "LoadResult":
            return asyncio.run(
                _load_content(
                    folder,
                    postgres_url=postgres_url,
                    mongo_url=mongo_url,
                    settings=settings,
                    dry_run=dry,
                    prune=prune or prune_all_sources,
                    every_source=prune_all_sources,
                    force=force,
                    strict=strict,
                )
            )

        if prune_all_sources and not yes and not dry_run:
            preview = run(dry=True)
            if not preview.ok or preview.unchanged:
                _report(preview, folder)
                return
            _confirm_whole_store_prune(preview)
        result = run(dry=dry_run)
    _report(result, folder)


def _confirm_whole_store_prune(preview: "LoadResult") -> None:
    """Say loudly what a whole-store prune would archive, by source, and ask."""
    from collections import Counter

    from syllabus.content.sources import shown

    assert preview.plan is not None
    archives = [
        change
        for change in (*preview.plan.changes, *preview.plan.catalog)
        if change.action == "archive"
    ]
    by_source = Counter(change.owner for change in archives)
    err.print(
        "--prune-all-sources archives everything in the stores that this folder does not "
        "have, whichever folder loaded it:",
        style="bold red",
        highlight=False,
    )
    for owner, count in sorted(by_source.items(), key=lambda item: str(item[0])):
        err.print(f"  {count} item(s) of {shown(owner)}", highlight=False)
    if not archives:
        err.print("  nothing", highlight=False)
    if not sys.stdin.isatty():
        raise ConfigError("--prune-all-sources: add --yes to confirm (no terminal to ask on)")
    typer.confirm(f"Archive these {len(archives)} item(s)?", abort=True, err=True)


async def _doctor(*, postgres_url: str, mongo_url: str, settings: Settings, fix: bool) -> "Report":
    from syllabus.db.sql import session_scope
    from syllabus.doctor import service

    async with (
        _open_stores(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings) as (
            sessionmaker,
            database,
        ),
        session_scope(sessionmaker) as session,
    ):
        if fix:
            return await service.repair(session=session, database=database)
        return await service.examine(session=session, database=database)


@app.command()
@friendly_errors
def doctor(
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply the safe repairs, in one transaction.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    examples: Annotated[int, typer.Option(min=1, help="Examples per kind (text).")] = 5,
) -> None:
    """Reconcile PostgreSQL with MongoDB: report drift by kind, and with --fix repair the
    catalog where that is safe (learner rows are never changed). Exit code 0: nothing
    left; 1: drift left; 2: could not examine."""
    import asyncio
    import json

    from syllabus.doctor.report import as_json, as_text

    if fmt not in ("text", "json"):
        raise ConfigError(f"--format: {fmt!r} is not one of text, json")
    settings = _settings_for_tools()
    role: Role = "owner" if fix else "app"
    with _postgres_url(settings, role=role) as postgres_url, _mongo_url(settings) as mongo_url:
        try:
            report = asyncio.run(
                _doctor(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings, fix=fix)
            )
        except STORE_ERRORS as error:  # exit code 1 means drift: this is not drift
            raise ConfigError(f"cannot examine the stores: {_reason(error)}") from None
    if fmt == "json":
        typer.echo(json.dumps(as_json(report), indent=2, ensure_ascii=False))
    else:
        out.print(as_text(report, examples=examples), highlight=False, markup=False, soft_wrap=True)
    if not report.clean:
        raise typer.Exit(code=1)


@app.command()
@friendly_errors
def serve(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API against the configured stores (production entry point)."""
    import uvicorn

    settings = load_settings()
    if settings.postgres_url is None or settings.mongo_url is None:
        raise ConfigError(
            "SYLLABUS_POSTGRES_URL and SYLLABUS_MONGO_URL must be set for `serve` "
            "(use `syllabus dev` for embedded stores)"
        )
    configure_logging(settings)
    uvicorn.run(
        "syllabus.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        # Applied again in each worker process; uvicorn's access log is replaced by the
        # service's own (syllabus.access: request id, route template, duration).
        log_config=logging_config(settings),
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


async def _generate_notes(
    *,
    postgres_url: str,
    mongo_url: str,
    settings: Settings,
    generator: Literal["offline", "model"],
    course: str | None,
    stale_only: bool,
    concurrency: int,
) -> "GenerationReport":
    from rich.progress import Progress

    from syllabus.ai.notes import generate_notes
    from syllabus.ai.provider import ModelProvider

    provider = ModelProvider(settings) if generator == "model" else None
    try:
        async with _open_stores(
            postgres_url=postgres_url, mongo_url=mongo_url, settings=settings, pool_size=concurrency
        ) as (sessionmaker, _database):
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task(f"AI notes ({generator})", total=None)
                return await generate_notes(
                    sessionmaker=sessionmaker,
                    provider=provider,
                    generator=generator,
                    course=course,
                    stale_only=stale_only,
                    concurrency=concurrency,
                    on_planned=lambda total: bar.update(task, total=total),
                    on_done=lambda _lesson: bar.advance(task),
                )
    finally:
        if provider is not None:
            await provider.close()


def _notes_summary(report: "GenerationReport") -> None:
    out.print(
        f"AI notes: {report.made} made of {report.planned} missing or stale"
        + (f", {len(report.skipped)} skipped (changed during the run)" if report.skipped else "")
        + (f", {len(report.failed)} failed" if report.failed else ""),
        highlight=False,
    )
    for lesson, reason in sorted(report.failed.items()):
        err.print(f"  {lesson}: {reason}", highlight=False)


@notes_app.command("generate")
@friendly_errors
def notes_generate(
    course: Annotated[
        str | None, typer.Option("--course", help="Only this course (course:<slug> or <slug>).")
    ] = None,
    stale_only: Annotated[
        bool, typer.Option("--stale-only", help="Only notes whose lesson changed since.")
    ] = False,
    generator: Annotated[
        Literal["offline", "model"],
        typer.Option(
            "--generator", help="offline (extractive, no model) or model (SYLLABUS_AI_BASE_URL)."
        ),
    ] = "offline",
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=16, help="Lessons at a time.")
    ] = 4,
) -> None:
    """Make the AI notes that are missing or stale; resumable (each note commits alone)."""
    import asyncio

    settings = _settings_for_tools()
    if generator == "model" and settings.ai_base_url is None:
        err.print("--generator model needs SYLLABUS_AI_BASE_URL (docs/ai.md)", highlight=False)
        raise typer.Exit(code=2)
    if course is not None and not course.startswith("course:"):
        course = f"course:{course}"
    with _postgres_url(settings) as postgres_url, _mongo_url(settings) as mongo_url:
        report = asyncio.run(
            _generate_notes(
                postgres_url=postgres_url,
                mongo_url=mongo_url,
                settings=settings,
                generator=generator,
                course=course,
                stale_only=stale_only,
                concurrency=concurrency,
            )
        )
    _notes_summary(report)
    if report.failed:
        raise typer.Exit(code=1)


@app.command()
@friendly_errors
def dev() -> None:
    """Start embedded stores where no URL is set, migrate, and serve (what `make run` does)."""
    import uvicorn

    from syllabus.main import create_app

    settings = load_settings(env="dev")
    configure_logging(settings)
    _exit_cleanly_on_sigterm()
    with embedded_stores(
        data_dir=settings.data_dir,
        need_postgres=settings.postgres_url is None,
        need_mongo=settings.mongo_url is None,
    ) as (embedded_postgres, mongo_url):
        postgres = embedded_postgres
        if postgres is None:
            assert settings.postgres_url is not None  # or a server would have been embedded
            postgres = PostgresUrls(app=settings.postgres_url, owner=_owner_url(settings))
        settings = settings.model_copy(
            update={
                "postgres_url": postgres.app,
                "postgres_owner_url": postgres.owner,
                "mongo_url": settings.mongo_url or mongo_url,
            }
        )
        _migrate(postgres)
        if SEED_FOLDER.is_dir():
            import asyncio

            assert settings.mongo_url is not None
            _report(
                asyncio.run(
                    _load_content(
                        SEED_FOLDER,
                        postgres_url=postgres.app,
                        mongo_url=settings.mongo_url,
                        settings=settings,
                        dry_run=False,
                        prune=True,
                    )
                ),
                SEED_FOLDER,
            )
        assert settings.mongo_url is not None
        _notes_summary(
            asyncio.run(
                _generate_notes(
                    postgres_url=postgres.app,
                    mongo_url=settings.mongo_url,
                    settings=settings,
                    generator="offline",
                    course=None,
                    stale_only=False,
                    concurrency=1,
                )
            )
        )
        err.print(f"PostgreSQL: {to_libpq_url(postgres.app)} (the API's role)", highlight=False)
        err.print(f"            {to_libpq_url(postgres.owner)} (the owner)", highlight=False)
        err.print(
            f"MongoDB:    {settings.mongo_url} (database {settings.mongo_db})", highlight=False
        )
        err.print(f"API:        http://{settings.host}:{settings.port}/docs", highlight=False)
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=logging_config(settings),
            access_log=False,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head) as the tables' owner, then grant the
    app's role (SYLLABUS_POSTGRES_URL) DML on every table and nothing else."""
    with _postgres_urls(_settings_for_tools()) as urls:
        _migrate(urls, revision=revision)


@db_app.command("downgrade")
@friendly_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base.")],
) -> None:
    """Revert migrations down to REVISION."""
    with _postgres_url(_settings_for_tools(), role="owner") as url:
        migrate.downgrade(url=url, revision=revision)


@db_app.command("current")
@friendly_errors
def db_current() -> None:
    """Print the revision the database is at."""
    with _postgres_url(_settings_for_tools(), role="owner") as url:
        migrate.current(url=url)


@db_app.command("url")
@friendly_errors
def db_url(
    app_role: Annotated[
        bool, typer.Option("--app", help="The API's role (DML only) instead of the owner.")
    ] = False,
) -> None:
    """Print a libpq URL for psql and SQL tools, as the tables' owner, or with --app as
    the API's role (starts the embedded dev server if needed)."""
    role: Role = "app" if app_role else "owner"
    with _postgres_url(_settings_for_tools(), role=role, keep_running=True) as url:
        typer.echo(to_libpq_url(url))


def _psql_executable() -> str:
    found = shutil.which("psql")
    if found:
        return found
    try:
        import pgserver
    except ImportError:
        raise ConfigError("psql not found: install a PostgreSQL client") from None
    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")


@db_app.command("psql")
@friendly_errors
def db_psql() -> None:
    """Open psql on the database as the tables' owner (the embedded dev one unless
    SYLLABUS_POSTGRES_URL is set)."""
    with _postgres_url(_settings_for_tools(), role="owner") as url:
        code = subprocess.call([_psql_executable(), to_libpq_url(url)])  # noqa: S603 (our own URL)
    sys.exit(code)


def _read_password() -> str:
    """From a terminal: asked twice, hidden. Otherwise: the first line of standard input."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


async def _create_admin(url: str, *, email: str, name: str, password: str) -> tuple[str, bool]:
    from pydantic import ValidationError

    from syllabus.db.sql import create_engine, create_sessionmaker, session_scope
    from syllabus.errors import validation_errors
    from syllabus.identity.schemas import UserRegister
    from syllabus.identity.service import ensure_admin

    try:
        data = UserRegister(email=email, password=password, name=name)
    except ValidationError as error:
        problems = validation_errors(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
        )
        raise ConfigError(
            "\n".join(f"{item['field']}: {item['message']}" for item in problems)
        ) from None
    engine = create_engine(to_asyncpg_url(url), pool_size=1, max_overflow=0)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            user, created = await ensure_admin(session=session, data=data)
        return str(user.id), created
    finally:
        await engine.dispose()


@users_app.command("create-admin")
@friendly_errors
def create_admin(
    email: Annotated[str, typer.Argument(help="The admin's email address.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Administrator",
) -> None:
    """Create the first admin (password asked, or read from stdin), or promote an account."""
    import asyncio

    password = _read_password()
    with _postgres_url(_settings_for_tools()) as url:
        user_id, created = asyncio.run(
            _create_admin(url, email=email, name=name, password=password)
        )
    action = "created" if created else "promoted to admin (password unchanged)"
    typer.echo(f"{email.strip().lower()}: {action}, id {user_id}")


async def _purge(url: str, settings: Settings) -> dict[str, int]:
    from syllabus.db.sql import create_engine, create_sessionmaker, session_scope
    from syllabus.idempotency.service import purge_expired
    from syllabus.identity.service import purge_throttle_records

    engine = create_engine(to_asyncpg_url(url), pool_size=1, max_overflow=0)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            return {
                "idempotency_keys": await purge_expired(session=session),
                **await purge_throttle_records(session=session, settings=settings),
            }
    finally:
        await engine.dispose()


@app.command()
@friendly_errors
def purge() -> None:
    """Delete rows nothing reads any more: idempotency keys past 24 hours, sign-in
    attempts past the 1-hour throttle window, sign-up attempts past the sign-up window,
    known addresses unused for SYLLABUS_KNOWN_ADDRESS_DAYS. Safe at any time; run it daily."""
    import asyncio

    settings = _settings_for_tools()
    with _postgres_url(settings) as url:
        deleted = asyncio.run(_purge(url, settings))
    for table, count in deleted.items():
        typer.echo(f"{table}: {count} deleted")


async def _purge_files(
    *, postgres_url: str, mongo_url: str, settings: Settings, older_than: "timedelta"
) -> int:
    from syllabus.homework.service import purge_orphan_files

    async with _open_stores(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings) as (
        sessions,
        database,
    ):
        return await purge_orphan_files(sessions=sessions, database=database, older_than=older_than)


@app.command("purge-files")
@friendly_errors
def purge_files(
    older_than_minutes: Annotated[
        int,
        typer.Option(min=1, help="Keep files younger than this: uploads may still be in flight."),
    ] = 60,
) -> None:
    """Delete homework files in GridFS that no submission points at: uploads whose
    transaction failed and whose clean-up did not run, files of an erasure whose clean-up
    failed. Safe at any time; run it daily with `syllabus purge`."""
    import asyncio
    from datetime import timedelta

    settings = _settings_for_tools()
    with _postgres_url(settings) as postgres_url, _mongo_url(settings) as mongo_url:
        deleted = asyncio.run(
            _purge_files(
                postgres_url=postgres_url,
                mongo_url=mongo_url,
                settings=settings,
                older_than=timedelta(minutes=older_than_minutes),
            )
        )
    typer.echo(f"submission files: {deleted} orphans deleted")


async def _seal_due(*, postgres_url: str, mongo_url: str, settings: Settings) -> int:
    from syllabus.db.sql import session_scope
    from syllabus.exams.service import seal_due
    from syllabus.main import wire

    wire()  # sealing hands graded tasks to competencies (assessment.items_graded)

    sealed = 0
    async with _open_stores(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings) as (
        sessions,
        _database,
    ):
        while True:  # batches of 100, each its own transaction
            async with session_scope(sessions) as session:
                count = await seal_due(session=session)
            sealed += count
            if count == 0:
                return sealed


@exams_app.command("seal-due")
@friendly_errors
def exams_seal_due() -> None:
    """Seal every open exam attempt past its deadline (plus the 30 s grace) with the
    answers saved before it: for cron, next to the service's own lazy sealing. Several at
    once never seal one attempt twice."""
    import asyncio

    settings = _settings_for_tools()
    with _postgres_url(settings) as postgres_url, _mongo_url(settings) as mongo_url:
        sealed = asyncio.run(
            _seal_due(postgres_url=postgres_url, mongo_url=mongo_url, settings=settings)
        )
    typer.echo(f"{sealed} exam attempts sealed")


async def _reconcile(
    url: str, settings: Settings, *, since: datetime.datetime, fix: bool
) -> tuple[int, list["Finding"]]:
    from syllabus.commerce import reconcile
    from syllabus.commerce.deps import build_providers
    from syllabus.db.sql import create_engine, create_sessionmaker, session_scope
    from syllabus.main import wire

    wire()
    engine = create_engine(to_asyncpg_url(url), pool_size=1, max_overflow=0)
    sessions = create_sessionmaker(engine)
    try:
        return await reconcile.run(
            unit=lambda: session_scope(sessions),
            providers=build_providers(settings),
            since=since,
            fix=fix,
        )
    finally:
        await engine.dispose()


async def _renew_due(url: str, settings: Settings, *, grace_days: int) -> "Renewals":
    from syllabus.commerce import renew
    from syllabus.commerce.deps import build_providers
    from syllabus.commerce.providers.yookassa import YooKassaProvider
    from syllabus.db.sql import create_engine, create_sessionmaker, session_scope
    from syllabus.main import wire

    provider = build_providers(settings).get("yookassa")
    if not isinstance(provider, YooKassaProvider):
        return renew.Renewals()  # YooKassa is not configured: nothing of it to renew
    wire()
    engine = create_engine(to_asyncpg_url(url), pool_size=1, max_overflow=0)
    sessions = create_sessionmaker(engine)
    try:
        return await renew.renew_due(
            unit=lambda: session_scope(sessions),
            provider=provider,
            now=datetime.datetime.now(datetime.UTC),
            grace=datetime.timedelta(days=grace_days),
        )
    finally:
        await engine.dispose()


@payments_app.command("renew-due")
@friendly_errors
def payments_renew_due(
    grace_days: Annotated[
        int,
        typer.Option(min=0, help="Days after a period's end a declined renewal is retried."),
    ] = 3,
) -> None:
    """Charge the saved payment method of every YooKassa subscription whose period has
    ended (idempotent: a rerun charges nothing twice); a decline makes it past_due, and
    past the grace it expires. For cron (daily or more often), next to reconcile."""
    import asyncio

    settings = _settings_for_tools()
    with _postgres_url(settings) as url:
        done = asyncio.run(_renew_due(url, settings, grace_days=grace_days))
    err.print(
        f"{done.renewed} renewed, {done.declined} declined (past due), "
        f"{done.expired} expired, {done.waiting} waiting for the provider",
        highlight=False,
    )


@payments_app.command("reconcile")
@friendly_errors
def payments_reconcile(
    since: Annotated[
        datetime.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="Payments created from this UTC time on (default: 30 days ago).",
        ),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply what the notifications missed (idempotent).")
    ] = False,
) -> None:
    """Compare pending and paid payments, live subscriptions and unprocessed notifications
    with each provider's state now, and report the differences; --fix applies them
    through the webhooks' own settlement (a second run finds nothing). Exits 1 while a
    difference is left. For cron, next to the webhooks."""
    import asyncio

    start = (
        since.replace(tzinfo=datetime.UTC)
        if since is not None
        else datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    )
    settings = _settings_for_tools()
    with _postgres_url(settings) as url:
        checked, findings = asyncio.run(_reconcile(url, settings, since=start, fix=fix))
    for finding in findings:
        state = "fixed" if finding.fixed else "left"
        typer.echo(f"{finding.subject}\t{finding.provider}\t{finding.difference}\t{state}")
    left = sum(not finding.fixed for finding in findings)
    err.print(
        f"{checked} checked since {start:%Y-%m-%d %H:%M} UTC: {len(findings)} difference(s), "
        f"{len(findings) - left} fixed, {left} left",
        highlight=False,
    )
    if left:
        raise typer.Exit(code=1)


async def _grant(urls: PostgresUrls, role: str, password: str | None) -> None:
    from syllabus.analytics.role import grant_read_only
    from syllabus.db.sql import create_engine

    reserved = {name for name in (user_of(urls.app), user_of(urls.owner)) if name}
    engine = create_engine(to_asyncpg_url(urls.owner), pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await grant_read_only(connection, role, password=password, reserved=reserved)
    finally:
        await engine.dispose()


@analytics_app.command("grant")
@friendly_errors
def analytics_grant(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role to create or update.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Set its password from standard input.")
    ] = False,
) -> None:
    """Create or update a read-only role: USAGE and SELECT on the analytics schema only."""
    import asyncio

    from syllabus.errors import AppError

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _postgres_urls(_settings_for_tools()) as urls:
        try:
            asyncio.run(_grant(urls, role, password))
        except AppError as error:
            raise ConfigError(f"{role}: {error.detail}") from None
    typer.echo(f"{role}: may read the analytics schema, and nothing else")


async def _export(
    url: str,
    view: str,
    *,
    fmt: str,
    since: datetime.date | None,
    output: Path | None,
    iri_base: str,
) -> int:
    import asyncpg
    from rich.progress import Progress

    from syllabus.analytics import export

    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        query, args = await export.plan(connection, view, fmt=fmt, since=since)  # type: ignore[arg-type]
        total = await connection.fetchval(f"SELECT count(*) FROM ({query}) AS rows", *args)  # noqa: S608
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task(f"Exporting {view}", total=total)
                count = await export.write(
                    export.stream(connection, query, args),
                    out,
                    fmt=fmt,  # type: ignore[arg-type]
                    base=iri_base.rstrip("/"),
                    progress=lambda done: bar.update(task, completed=done),
                )
                out.flush()  # a reader gone by now is met here, not at interpreter exit
                return count
        finally:
            if output:
                out.close()
    finally:
        await connection.close()


@analytics_app.command("export")
@friendly_errors
def analytics_export(
    view: Annotated[str, typer.Argument(help="An analytics view, or 'activity' (the log).")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, jsonl, or xapi (the activity log only).")
    ] = "csv",
    since: Annotated[
        datetime.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Only rows from this date (UTC) on."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    iri_base: Annotated[
        str | None,
        typer.Option(
            help="Base of the IRIs in xAPI statements (default: SYLLABUS_PUBLIC_BASE_URL)."
        ),
    ] = None,
) -> None:
    """Stream a view (or the activity log) as CSV, JSON Lines or xAPI statements."""
    import asyncio

    from syllabus.analytics.export import ExportError

    if fmt not in ("csv", "jsonl", "xapi"):
        raise ConfigError(f"--format: {fmt!r} is not one of csv, jsonl, xapi")
    if iri_base is not None and not BASE_URL_PATTERN.match(iri_base):
        raise ConfigError(
            f"--iri-base: must be http(s)://host[:port][/path], without query or fragment "
            f"(as SYLLABUS_PUBLIC_BASE_URL); got {iri_base!r}"
        )
    settings = _settings_for_tools()
    if iri_base is None and settings.public_base_url is None and settings.env == "prod":
        raise ConfigError("--iri-base: not given, and SYLLABUS_PUBLIC_BASE_URL is not set")
    iri_base = iri_base or settings.public_url
    with _postgres_url(settings, role="owner") as url:
        try:
            count = asyncio.run(
                _export(
                    url,
                    view,
                    fmt=fmt,
                    since=since.date() if since else None,
                    output=output,
                    iri_base=iri_base,
                )
            )
        except ExportError as error:
            raise ConfigError(str(error)) from None
        except BrokenPipeError:
            _reader_gone()
    err.print(f"{count} row(s) exported", highlight=False)


def _reader_gone() -> NoReturn:
    """Standard output's reader left (``| head``): stop quietly and successfully, as a
    Unix filter does. Standard output now points at /dev/null, so the interpreter's last
    flush cannot fail on the closed pipe again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(code=0)


async def _refresh(url: str, names: list[str]) -> None:
    import asyncpg

    from syllabus.analytics.refresh import refresh

    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        for done in await refresh(connection, names=names):
            typer.echo(f"analytics.{done.name}: refreshed in {done.seconds:.2f} s")
    finally:
        await connection.close()


@analytics_app.command("refresh")
@friendly_errors
def analytics_refresh(
    views: Annotated[
        list[str] | None,
        typer.Argument(help="Materialized views to refresh (default: all of them)."),
    ] = None,
) -> None:
    """Refresh the materialized analytics views, CONCURRENTLY (readers are not blocked)."""
    import asyncio

    from syllabus.analytics.refresh import RefreshError

    with _postgres_url(_settings_for_tools(), role="owner") as url:
        try:
            asyncio.run(_refresh(url, views or []))
        except RefreshError as error:
            raise ConfigError(str(error)) from None


if __name__ == "__main__":  # pragma: no cover
    app()
