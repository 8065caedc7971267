"""The analytics views on a small dataset built through the API, against numbers worked
out by hand; and the read-only role's limits."""

from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from syllabus.analytics.role import grant_read_only
from syllabus.config import Settings
from syllabus.db.roles import user_of
from syllabus.errors import UnprocessableContent
from tests.identity.helpers import Account
from tests.stores import ServerUrls
from tests.test_cli import run_cli

FREE = "course:rest-basics"
QUIZ = "quiz:rest-basics-check"


async def rows(session: AsyncSession, sql: str) -> list[dict[str, Any]]:
    result = await session.execute(text(sql))
    return [dict(row._mapping) for row in result]


def as_plain(value: Any) -> Any:
    return float(value) if hasattr(value, "as_tuple") else value


async def test_course_funnel(session: AsyncSession, dataset: list[Account]) -> None:
    funnel = await rows(
        session, "SELECT * FROM analytics.course_funnel WHERE course_id = 'course:rest-basics'"
    )
    assert {k: as_plain(v) for k, v in funnel[0].items()} == {
        "course_id": FREE,
        "title": "Course rest-basics",
        "status": "published",
        "enrolled": 3,
        "started": 2,
        "completed": 1,
        "start_rate": 0.6667,
        "completion_rate": 0.3333,
    }


async def test_lesson_completion_and_dropoff(session: AsyncSession, dataset: list[Account]) -> None:
    lessons = await rows(
        session,
        "SELECT lesson_id, started, completed, completion_rate, dropoff_from_previous "
        "FROM analytics.lesson_completion WHERE course_id = 'course:rest-basics' ORDER BY position",
    )
    assert [tuple(as_plain(v) for v in row.values()) for row in lessons] == [
        ("lesson:rest-basics-intro", 2, 1, 0.5, None),
        ("lesson:rest-basics-more", 1, 1, 1.0, 0.5),
    ]


async def test_quiz_summary_and_item_analysis(
    session: AsyncSession, dataset: list[Account]
) -> None:
    summary = await rows(session, f"SELECT * FROM analytics.quiz_summary WHERE quiz_id = '{QUIZ}'")
    assert {k: as_plain(v) for k, v in summary[0].items()} == {
        "quiz_id": QUIZ,
        "title": "Check",
        "course_id": FREE,
        "attempts": 2,
        "learners": 2,
        "pass_rate": 1 / 2,
        "mean_score_percent": 66.67,  # (100 + 33.33) / 2
        "median_score_percent": 66.67,
        "learners_passed": 1,
    }
    items = await rows(
        session,
        f"SELECT question_id, answers, difficulty, discrimination FROM analytics.question_items "
        f"WHERE quiz_id = '{QUIZ}' ORDER BY question_id",
    )
    assert [tuple(as_plain(v) for v in row.values()) for row in items] == [
        # both answered it right: no spread, no correlation to compute
        ("question:bank-safe-method", 2, 1.0, None),
        # right only in the perfect attempt: point-biserial with the total score is 1
        ("question:legacy-1", 2, 0.5, 1.0),
        ("question:rest-basics-nouns", 2, 0.5, 1.0),
    ]


async def test_activity_streaks_time_to_complete_and_the_fact_view(
    session: AsyncSession, dataset: list[Account]
) -> None:
    done, halfway, idle = dataset
    daily = await rows(session, "SELECT learners FROM analytics.daily_active_learners")
    weekly = await rows(session, "SELECT learners FROM analytics.weekly_active_learners")
    assert daily == [{"learners": 2}]  # signing up or only enrolling is not activity
    assert weekly == [{"learners": 2}]
    assert await rows(session, "SELECT * FROM analytics.streak_distribution") == [
        {"streak_days": 1, "learners": 2}
    ]
    ttc = await rows(
        session, "SELECT course_id, completions, mean_days FROM analytics.time_to_complete"
    )
    assert [(r["course_id"], r["completions"], as_plain(r["mean_days"])) for r in ttc] == [
        (FREE, 1, 0.0)
    ]
    facts = await rows(
        session,
        "SELECT user_id::text, enrollment_status, lessons_completed, required_items, quiz_attempts "
        "FROM analytics.learner_course ORDER BY lessons_completed DESC, quiz_attempts DESC",
    )
    assert [tuple(r.values()) for r in facts] == [
        (done.id, "completed", 2, 3, 1),
        (halfway.id, "active", 0, 3, 1),
        (idle.id, "active", 0, 3, 0),
    ]


async def test_no_view_exposes_personal_data(session: AsyncSession) -> None:
    columns = await rows(
        session,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'analytics'",
    )
    assert len({c["table_name"] for c in columns}) == 24
    assert not {c["column_name"] for c in columns} & {
        "email",
        "name",
        "password_hash",
        "client_ip",
        "note",
    }


async def test_the_read_only_role_reads_analytics_and_nothing_else(
    analyst: asyncpg.Connection,
) -> None:
    assert await analyst.fetchval("SELECT count(*) FROM analytics.course_funnel") >= 0
    tables = [
        row["tablename"]
        for row in await analyst.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    ]
    assert {"users", "auth_refresh_tokens", "lesson_progress"} <= set(tables)
    for table in tables:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst.fetch(f'SELECT * FROM public."{table}" LIMIT 1')
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await analyst.execute("CREATE VIEW analytics.mine AS SELECT 1")


@pytest.mark.parametrize(
    "role", ['analyst"; DROP TABLE users; --', "Analyst", "", "9lives", "a" * 64]
)
async def test_a_bad_role_name_is_refused_and_nothing_is_created(
    engine: AsyncEngine, role: str
) -> None:
    async with engine.begin() as connection:
        before = (await connection.execute(text("SELECT count(*) FROM pg_roles"))).scalar_one()
        with pytest.raises(UnprocessableContent) as refused:
            await grant_read_only(connection, role, password=None)
        after = (await connection.execute(text("SELECT count(*) FROM pg_roles"))).scalar_one()
    assert refused.value.status == 422
    assert refused.value.extensions["field"] == "role"
    assert after == before


async def _rights(connection: AsyncConnection, role: str) -> list[tuple[Any, ...]]:
    """Every right ``role`` holds on this database's tables, schemas and itself."""
    result = await connection.execute(
        text(
            "SELECT r.rolsuper, r.rolcanlogin, "
            "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            " WHERE n.nspname IN ('public', 'analytics') AND c.relkind IN ('r', 'v', 'm') "
            " AND has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE')), "
            "has_schema_privilege(r.oid, 'analytics', 'USAGE') "
            "FROM pg_roles r WHERE r.rolname = :r"
        ),
        {"r": role},
    )
    return [tuple(row) for row in result]


async def test_grant_refuses_superusers_and_the_services_own_roles(
    engine: AsyncEngine, servers: ServerUrls
) -> None:
    """`analytics grant postgres` said the superuser "may read the analytics schema, and
    nothing else"; granting the app's role would have revoked its rights (an outage)."""
    superuser = user_of(servers.postgres)
    assert superuser is not None
    cases = [
        (superuser, set(), "superuser"),
        (servers.owner, set(), "owns the service's tables"),
        (servers.app, set(), "rights on the service's tables"),
        (servers.app, {servers.app}, "one of the service's own roles"),
    ]
    for role, reserved, reason in cases:
        async with engine.begin() as connection:
            before = await _rights(connection, role)
            with pytest.raises(UnprocessableContent, match=reason) as refused:
                await grant_read_only(connection, role, password="x", reserved=reserved)
            assert await _rights(connection, role) == before
        assert refused.value.extensions["field"] == "role"


def test_the_grant_command_refuses_the_superuser(
    settings: Settings, servers: ServerUrls, tmp_path: Path
) -> None:
    assert settings.postgres_owner_url is not None
    superuser = user_of(servers.postgres)
    assert superuser is not None
    # (the app's role: tests/db/test_roles.py, on a second server)
    refused = run_cli(
        "analytics",
        "grant",
        superuser,
        cwd=tmp_path,
        SYLLABUS_POSTGRES_URL=settings.sqlalchemy_url,
        SYLLABUS_POSTGRES_OWNER_URL=settings.postgres_owner_url,
    )
    assert refused.returncode == 2, refused.stdout
    assert "superuser" in refused.stderr
    assert "may read the analytics schema" not in refused.stdout
