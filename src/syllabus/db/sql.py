"""PostgreSQL: the engine, the per-request session, and the columns every table shares.

Every table gets a UUIDv7 ``id``, database-maintained ``created_at``/``updated_at``,
``created_by``/``updated_by`` filled from the acting user, and ``deleted_at`` for soft
deletion. ORM queries skip soft-deleted rows unless asked with
``execution_options(include_deleted=True)``.
"""

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

import asyncpg
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.schema import FetchedValue
from sqlalchemy.util import greenlet_spawn
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig
from sqlmodel.main import default_registry

from syllabus.db import recovery
from syllabus.errors import AppError
from syllabus.kit.ids import uuid7

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

current_actor: ContextVar[uuid.UUID | None] = ContextVar("current_actor", default=None)
"""The user on whose behalf the current request writes; read by the audit hook."""


def _acting_user() -> uuid.UUID | None:
    """The default of ``created_by``/``updated_by`` on INSERT: the user acting now. A
    column default, so every insert gets it however it is written: ORM objects, Core
    ``insert(Model)`` of one row or many, upserts (their DO UPDATE takes it from
    ``excluded``). Takes no argument: SQLAlchemy would pass its context to one that does
    (``ContextVar.get`` would return it as the default)."""
    return current_actor.get()


class Base(SQLModel):
    """Columns shared by every table. Timestamps come from the database, not the app."""

    # A table's pydantic validator is built when first used (``model_validate``), not at
    # import: SQLModel's table constructor does not validate, and most tables are never
    # validated in a worker (docs/operations.md, "Memory and garbage collection").
    model_config = SQLModelConfig(defer_build=True)

    id: uuid.UUID = Field(
        default_factory=uuid7,
        primary_key=True,
        sa_column_kwargs={"server_default": text("uuid_generate_v7()")},
    )
    created_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    updated_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={
            "server_default": text("statement_timestamp()"),
            "server_onupdate": FetchedValue(),
        },
    )
    created_by: uuid.UUID | None = Field(default=None, sa_column_kwargs={"default": _acting_user})
    updated_by: uuid.UUID | None = Field(default=None, sa_column_kwargs={"default": _acting_user})
    deleted_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )

    # Read server-set columns back with RETURNING instead of a second SELECT.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}


def _soft_deletable_classes() -> list[type[Base]]:
    """Every mapped table class; SQLModel mixins carry no SQL columns to filter on."""
    return [mapper.class_ for mapper in default_registry.mappers if issubclass(mapper.class_, Base)]


def _live(table_class: Any) -> Any:
    return table_class.deleted_at.is_(None)


_live_options: dict[int, tuple[LoaderCriteriaOption, ...]] = {}
"""The soft-delete criteria, by the number of mapped classes they were built for."""


def _live_criteria() -> tuple[LoaderCriteriaOption, ...]:
    """One soft-delete criterion per mapped table class, built once (again only if more
    classes are mapped): the same option objects and one function every time let
    SQLAlchemy reuse their cache keys, where fresh ones cost about 2 ms per SELECT
    (docs/exams.md, "Exam day")."""
    mapped = len(default_registry.mappers)
    options = _live_options.get(mapped)
    if options is None:
        options = tuple(
            with_loader_criteria(table_class, _live, include_aliases=True)
            for table_class in _soft_deletable_classes()
        )
        _live_options.clear()
        _live_options[mapped] = options
    return options


@event.listens_for(Session, "do_orm_execute")
def _on_orm_execute(state: ORMExecuteState) -> None:
    _stamp_actor_on_bulk_update(state)
    _exclude_soft_deleted(state)


def _exclude_soft_deleted(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get("include_deleted", False)
    ):
        state.statement = state.statement.options(*_live_criteria())


def _stamp_actor_on_bulk_update(state: ORMExecuteState) -> None:
    """``session.execute(update(Model)…)`` skips the flush hook; stamp the actor here too."""
    actor = current_actor.get()
    if actor is None or not state.is_update or state.bind_mapper is None:
        return
    if issubclass(state.bind_mapper.class_, Base):
        state.statement = state.statement.values(updated_by=actor)  # type: ignore[attr-defined]


@event.listens_for(Session, "before_flush")
def _stamp_actor(session: Session, _context: object, _instances: object) -> None:
    """Whoever acts in this context is recorded on the rows they change (new rows get
    it from the columns' default, however they are inserted)."""
    actor = current_actor.get()
    if actor is None:
        return
    for obj in session.dirty:
        if isinstance(obj, Base) and session.is_modified(obj):
            obj.updated_by = actor


@contextmanager
def acting_as(user_id: uuid.UUID | None) -> Iterator[None]:
    """Attribute the writes in this block to ``user_id`` (sign-up, sign-in: no token yet)."""
    token = current_actor.set(user_id)
    try:
        yield
    finally:
        current_actor.reset(token)


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 0, **kwargs: Any
) -> AsyncEngine:
    """One engine per process. A 2-core box gains nothing from a big pool.

    No overflow by default: under sustained load, overflow connections are closed as
    they come back and reopened by the next request (a connection costs milliseconds;
    it showed as ~4 % of the outline's profile); a fixed pool keeps them, and requests
    beyond it wait for one.

    No ``pool_pre_ping``: it costs a round trip per request (10 % of the outline's time,
    see bench/RESULTS.md). A connection broken by a server restart fails the first
    statement it is given; SQLAlchemy then recognises the disconnect and discards the
    pool's connections, and the API runs that unit of work again on a fresh connection
    (:mod:`syllabus.db.recovery`, installed by the app's lifespan).
    """
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        **kwargs,
    )


Driver: TypeAlias = asyncpg.Connection
"""A pooled connection's own asyncpg connection (:func:`pooled_driver`)."""


@asynccontextmanager
async def pooled_driver(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A connection from ``engine``'s pool as the driver itself, for a hot statement that
    needs nothing of SQLAlchemy's execution (the lesson progress PUT's fast path: its
    connection and result set-up were about a third of the request under load,
    bench/RESULTS.md). No transaction is begun: for ONE statement, atomic by itself.

    The pool checks it out and back in as for any connection. What SQLAlchemy does for
    its own statements is done here alike: a connection found dead (a server restart) is
    invalidated and reported to :mod:`syllabus.db.recovery`, so the unit of work runs
    again on a fresh one; an interrupted one (a cancelled request) is discarded too, as
    its state on the wire is unknown."""
    pooled = await engine.raw_connection()
    driver: Driver = pooled.driver_connection
    try:
        yield driver
    except BaseException as error:
        if driver.is_closed():
            # As SQLAlchemy does on a disconnect: every connection of the pool made
            # before now is suspect (a restart killed them all), so each is replaced
            # as it is next checked out (SQLAlchemy's own hook for it).
            await greenlet_spawn(engine.sync_engine.pool._invalidate, pooled, error)
            recovery.dead_connection_met()
        elif not isinstance(error, Exception):  # cancelled mid-statement: state unknown
            await greenlet_spawn(pooled.invalidate, error)
        raise
    else:
        recovery.statement_succeeded()
    finally:
        await greenlet_spawn(pooled.close)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One commit when the caller finishes cleanly, else one rollback; an error that
    ``keeps_writes`` (see :class:`~syllabus.errors.AppError`) still commits first.

    The acting user (set once the caller is authenticated) lives exactly as long as the
    unit of work, so the commit's final flush is attributed and nothing leaks past it.
    """
    actor = current_actor.set(None)
    try:
        yield session
    except AppError as error:
        if error.keeps_writes:
            await session.commit()
            await _run_callbacks(session, AFTER_COMMIT)
        else:
            await session.rollback()
            await _run_callbacks(session, AFTER_ROLLBACK)
        raise
    except BaseException:
        await session.rollback()
        await _run_callbacks(session, AFTER_ROLLBACK)
        raise
    else:
        await session.commit()
        await _run_callbacks(session, AFTER_COMMIT)
    finally:
        current_actor.reset(actor)
        session.info.pop(AFTER_COMMIT, None)
        session.info.pop(AFTER_ROLLBACK, None)


AFTER_COMMIT = "syllabus.after_commit"
AFTER_ROLLBACK = "syllabus.after_rollback"
Callback = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: Callback) -> None:
    """Run ``callback`` once this unit of work has committed (never if it rolls back):
    work in another store that must follow the commit, such as deleting an erased
    learner's files from GridFS (which no PostgreSQL transaction can include)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def after_rollback(session: AsyncSession, callback: Callback) -> None:
    """Run ``callback`` if this unit of work rolls back: undo what another store did
    ahead of the commit (a file uploaded to GridFS for rows that were never written)."""
    session.info.setdefault(AFTER_ROLLBACK, []).append(callback)


async def _run_callbacks(session: AsyncSession, which: str) -> None:
    """Each callback once, in order; one that fails is logged and the rest still run
    (the transaction's outcome is decided already; ``syllabus purge-files`` sweeps what
    a failed cleanup leaves)."""
    for callback in session.info.pop(which, []):
        try:
            await callback()
        except Exception:
            logger.exception("%s callback failed", which.rsplit(".", 1)[-1])


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A new session as one unit of work (per request, per CLI command)."""
    async with sessionmaker() as session, unit_of_work(session) as unit:
        yield unit
