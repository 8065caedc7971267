"""The commerce migration grants an admin entitlement for every live enrollment in a paid
course, so nobody loses access on deploy (DECISIONS 4)."""

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from syllabus.config import to_asyncpg_url
from syllabus.db import migrate


def before_commerce() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config(url="postgresql://unused"))
    for revision in script.walk_revisions():
        if revision.path.endswith("_commerce.py"):
            assert isinstance(revision.down_revision, str)
            return revision.down_revision
    raise AssertionError("no commerce revision")


SETUP = (
    "INSERT INTO users (email, name) VALUES ('a@x.org', 'A'), ('b@x.org', 'B'), ('c@x.org', 'C')",
    "INSERT INTO categories (name, slug) VALUES ('C', 'c')",
    "INSERT INTO courses (content_id, slug, title, category_id, level, status, price_cents, "
    " language, currency) SELECT 'course:' || s, s, s, c.id, 'Beginner', 'published', p, 'en', "
    " 'USD' FROM categories c, (VALUES ('paid', 1900), ('free', NULL)) AS v(s, p)",
    # a: active in both courses; b: completed both; c: cancelled the paid one.
    "INSERT INTO enrollments (user_id, course_id, status, completed_at) "
    " SELECT u.id, c.id, v.status, CASE WHEN v.status = 'completed' THEN now() END "
    " FROM users u, courses c, (VALUES ('a@x.org', 'active'), ('b@x.org', 'completed'), "
    " ('c@x.org', 'cancelled')) AS v(email, status) "
    " WHERE u.email = v.email AND (v.status <> 'cancelled' OR c.slug = 'paid')",
)


async def test_live_paid_enrollments_keep_their_access(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database, revision=before_commerce())
    engine = create_async_engine(to_asyncpg_url(scratch_database))
    try:
        async with engine.begin() as connection:
            for statement in SETUP:
                await connection.execute(text(statement))
        await asyncio.to_thread(migrate.upgrade, url=scratch_database)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT u.email, c.content_id, n.source, n.ends_at, n.revoked_at "
                        "FROM entitlements n JOIN users u ON u.id = n.user_id "
                        "JOIN courses c ON c.id = n.course_id ORDER BY u.email"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("a@x.org", "course:paid", "admin", None, None),
        ("b@x.org", "course:paid", "admin", None, None),
    ]
