"""The columns every table shares: UUIDv7 keys, database timestamps, audit, soft delete."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from syllabus.catalog.models import Category, Track
from syllabus.db.sql import current_actor
from syllabus.kit.ids import uuid7
from syllabus.tables import metadata
from tests.factories import create_category, create_user

BASE_COLUMNS = {"id", "created_at", "updated_at", "created_by", "updated_by", "deleted_at"}


def uuid7_time(value: uuid.UUID) -> datetime:
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)


def assert_uuid7(value: uuid.UUID) -> None:
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert abs(uuid7_time(value) - datetime.now(UTC)) < timedelta(seconds=30)


def test_python_uuid7_has_version_bits_and_sorts_by_creation() -> None:
    ids = [uuid7() for _ in range(2000)]
    for value in ids:
        assert_uuid7(value)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


async def test_database_uuid7_has_version_bits_and_sorts_by_time(
    connection: AsyncConnection,
) -> None:
    first = (await connection.execute(text("SELECT uuid_generate_v7()"))).scalar_one()
    await asyncio.sleep(0.005)
    later = (
        (await connection.execute(text("SELECT uuid_generate_v7() FROM generate_series(1, 500)")))
        .scalars()
        .all()
    )
    for value in [first, *later]:
        assert_uuid7(value)
    assert all(first < value for value in later)
    assert len(set(later)) == 500


async def test_rows_inserted_by_plain_sql_get_uuid7_and_timestamps(
    connection: AsyncConnection,
) -> None:
    row = (
        await connection.execute(
            text(
                "INSERT INTO categories (name, slug) VALUES ('SQL', 'sql') "
                "RETURNING id, created_at, updated_at"
            )
        )
    ).one()
    assert_uuid7(row.id)
    assert row.created_at == row.updated_at


async def test_orm_insert_reads_back_database_timestamps(session: AsyncSession) -> None:
    category = await create_category(session)
    assert_uuid7(category.id)
    assert category.created_at is not None
    assert category.created_at.tzinfo is not None
    assert category.updated_at == category.created_at


async def test_updated_at_is_stamped_by_the_database_on_every_write(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    category = await create_category(session)
    created_at = category.created_at
    assert created_at is not None

    category.name = "Renamed through the ORM"
    await session.flush()
    after_orm = category.updated_at
    assert after_orm is not None
    assert after_orm > created_at

    # Raw SQL gets the same treatment: the trigger, not the application, keeps the time.
    await connection.execute(
        text("UPDATE categories SET name = 'Renamed by SQL' WHERE id = :id"), {"id": category.id}
    )
    row = (
        await connection.execute(
            text("SELECT created_at, updated_at FROM categories WHERE id = :id"),
            {"id": category.id},
        )
    ).one()
    assert row.created_at == created_at
    assert row.updated_at > after_orm


async def test_audit_columns_record_the_acting_user(session: AsyncSession) -> None:
    author = await create_user(session, role="author")
    editor = await create_user(session, role="admin")

    token = current_actor.set(author.id)
    try:
        category = await create_category(session)
    finally:
        current_actor.reset(token)
    assert (category.created_by, category.updated_by) == (author.id, author.id)

    token = current_actor.set(editor.id)
    try:
        category.name = "Edited"
        await session.flush()
    finally:
        current_actor.reset(token)
    assert (category.created_by, category.updated_by) == (author.id, editor.id)


async def test_writes_without_an_actor_leave_audit_columns_empty(session: AsyncSession) -> None:
    category = await create_category(session)
    assert (category.created_by, category.updated_by) == (None, None)


async def test_queries_exclude_soft_deleted_rows_unless_asked(session: AsyncSession) -> None:
    kept = await create_category(session, slug="kept")
    gone = await create_category(session, slug="gone")
    await session.execute(
        update(Category).where(col(Category.id) == gone.id).values(deleted_at=func.now())
    )

    visible = (await session.execute(select(col(Category.slug)))).scalars().all()
    assert visible == [kept.slug]
    count = (await session.execute(select(func.count()).select_from(Category))).scalar_one()
    assert count == 1

    everything = (
        (
            await session.execute(
                select(col(Category.slug)).order_by(col(Category.slug)),
                execution_options={"include_deleted": True},
            )
        )
        .scalars()
        .all()
    )
    assert everything == ["gone", "kept"]


async def test_every_table_has_the_base_columns_trigger_and_uuid7_default(
    connection: AsyncConnection,
) -> None:
    tables = {
        row.table_name
        for row in await connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                "AND table_name <> 'alembic_version'"
            )
        )
    }
    assert tables == set(metadata.tables)
    for table in sorted(tables):
        columns = {
            row.column_name: row.column_default
            for row in await connection.execute(
                text(
                    "SELECT column_name, column_default FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = :table"
                ),
                {"table": table},
            )
        }
        assert columns.keys() >= BASE_COLUMNS, table
        assert columns["id"] == "uuid_generate_v7()", table
        triggers = (
            (
                await connection.execute(
                    text(
                        "SELECT tgname FROM pg_trigger "
                        "WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"
                    ),
                    {"table": table},
                )
            )
            .scalars()
            .all()
        )
        assert f"{table}_set_updated_at" in triggers, table


async def test_soft_deleted_rows_are_hidden_in_joins_and_lookups_too(
    session: AsyncSession,
) -> None:
    live = await create_category(session, slug="live")
    gone = await create_category(session, slug="gone")
    for category in (live, gone):
        session.add(Track(category_id=category.id, name=category.slug, slug=f"t-{category.slug}"))
    await session.flush()
    await session.execute(
        update(Category).where(col(Category.id) == gone.id).values(deleted_at=func.now())
    )
    session.expunge_all()

    joined = (
        (await session.execute(select(col(Track.slug)).join(Category).order_by(col(Track.slug))))
        .scalars()
        .all()
    )
    assert joined == ["t-live"]
    assert await session.get(Category, gone.id) is None
    assert await session.get(Category, live.id) is not None
