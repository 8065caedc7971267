"""The analysts' dimensions ([1/8] item 32) and learners told apart from staff and erased
accounts ([1/8] item 25): the aggregate views count only ``counted`` learners, the
per-learner views flag the others."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.models import ROLES, STAFF_ROLES, Role
from tests.analytics.test_views import rows
from tests.assessment.test_attempts import RIGHT, start, submit
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"


async def learn(client: httpx.AsyncClient, account: Account, key: str) -> None:
    """Enroll, complete both lessons and pass the quiz: the course is completed."""
    await enroll(client, account, FREE)
    for lesson in ("lesson:rest-basics-intro", "lesson:rest-basics-more"):
        assert (await progress(client, account, lesson, status="completed")).status_code == 200
    attempt = (await start(client, account)).json()["id"]
    assert (await submit(client, account, attempt, RIGHT, key)).json()["passed"]


@pytest.fixture
async def crowd(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path
) -> dict[str, Account]:
    """A student, an author and a student who then erased their account: each completed
    the free course."""
    crowd = {name: await sign_up(client) for name in ("student", "author", "erased")}
    await set_role(session, crowd["author"], "author")
    for name, account in crowd.items():
        await learn(client, account, f"key-{name}")
    erased = await client.delete("/api/v1/users/me", headers=crowd["erased"].headers)
    assert erased.status_code == 204
    await session.execute(text("RESET ROLE"))  # the analytics schema is the owner's
    return crowd


async def test_aggregates_count_only_learners_who_are_neither_staff_nor_erased(
    session: AsyncSession, crowd: dict[str, Account]
) -> None:
    counted = {
        "course_funnel": "SELECT enrolled, started, completed FROM analytics.course_funnel "
        f"WHERE course_id = '{FREE}'",
        "lesson_completion": "SELECT started, completed FROM analytics.lesson_completion "
        f"WHERE course_id = '{FREE}' ORDER BY position LIMIT 1",
        "quiz_summary": "SELECT attempts, learners, learners_passed FROM analytics.quiz_summary "
        "WHERE quiz_id = 'quiz:rest-basics-check'",
        "question_items": "SELECT answers FROM analytics.question_items "
        "WHERE quiz_id = 'quiz:rest-basics-check' LIMIT 1",
        "daily_active_learners": "SELECT learners FROM analytics.daily_active_learners",
        "weekly_active_learners": "SELECT learners FROM analytics.weekly_active_learners",
        "streak_distribution": "SELECT learners FROM analytics.streak_distribution",
        "time_to_complete": "SELECT completions FROM analytics.time_to_complete",
    }
    for view, sql in counted.items():
        (row,) = await rows(session, sql)
        assert set(row.values()) == {1}, (view, row)  # the student alone, not 3


async def test_per_learner_views_flag_staff_and_erased_accounts(
    session: AsyncSession, crowd: dict[str, Account]
) -> None:
    flags = {account.id: (name == "author", name == "erased") for name, account in crowd.items()}
    for view in ("learner_course", "learner_quiz", "learner_streaks"):
        found = await rows(
            session, f"SELECT user_id::text, is_staff, is_erased FROM analytics.{view}"
        )
        assert {r["user_id"]: (r["is_staff"], r["is_erased"]) for r in found} == flags, view


async def test_the_learner_dimension(
    client: httpx.AsyncClient, session: AsyncSession, crowd: dict[str, Account]
) -> None:
    found = await rows(
        session,
        "SELECT user_id::text, role, is_staff, is_erased, counted, signup_month, signup_week, "
        "time_zone, date_trunc('month', now() AT TIME ZONE 'UTC')::date AS this_month, "
        "date_trunc('week', now() AT TIME ZONE 'UTC')::date AS this_week "
        "FROM analytics.learners",
    )
    by_id = {r.pop("user_id"): r for r in found}
    assert {
        name: (r["role"], r["is_staff"], r["is_erased"], r["counted"], r["time_zone"])
        for name, account in crowd.items()
        for r in [by_id[account.id]]
    } == {
        "student": ("student", False, False, True, "UTC"),
        "author": ("author", True, False, False, "UTC"),
        "erased": ("student", False, True, False, "UTC"),
    }
    assert all(
        (r["signup_month"], r["signup_week"]) == (r["this_month"], r["this_week"])
        for r in by_id.values()
    )


def test_every_role_is_asked() -> None:
    """The parameters below are the roles the users table accepts: ``Role`` is a named
    alias, so ``get_args(Role)`` is empty and once parametrized this check over nothing."""
    assert set(ROLES) == {"student", "author", "admin", "teacher"}
    assert set(STAFF_ROLES) < set(ROLES)


@pytest.mark.parametrize("role", ROLES)
async def test_staff_in_sql_is_staff_in_python(
    client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    account = await sign_up(client)
    await set_role(session, account, role)
    await session.execute(text("RESET ROLE"))
    (row,) = await rows(
        session, f"SELECT is_staff FROM analytics.learners WHERE user_id = '{account.id}'"
    )
    assert row["is_staff"] is (role in STAFF_ROLES)


async def test_the_catalog_dimension(session: AsyncSession, loaded: Path) -> None:
    await session.execute(text("RESET ROLE"))
    courses = await rows(
        session,
        "SELECT course_id, category, track, level, language, price_cents, currency, is_free, "
        f"lesson_count FROM analytics.courses WHERE course_id = '{FREE}'",
    )
    tables = await rows(
        session,
        "SELECT c.content_id AS course_id, k.slug AS category, t.slug AS track, c.level, "
        "c.language, c.price_cents, c.currency, true AS is_free, 2 AS lesson_count "
        "FROM courses c JOIN categories k ON k.id = c.category_id "
        f"LEFT JOIN tracks t ON t.id = c.track_id WHERE c.content_id = '{FREE}'",
    )
    assert courses == tables
    assert (courses[0]["language"], courses[0]["is_free"]) == ("en", True)
    items = await rows(
        session,
        "SELECT item_id, item_type, module_id, position FROM analytics.course_items "
        f"WHERE course_id = '{FREE}' AND status = 'active' ORDER BY position",
    )
    index = await rows(
        session,
        "SELECT i.content_id AS item_id, i.item_type, i.module_id, i.position "
        "FROM content_index i JOIN courses c ON c.id = i.course_id "
        f"WHERE c.content_id = '{FREE}' AND i.status = 'active' ORDER BY i.position",
    )
    assert items == index
    assert {item["item_type"] for item in items} == {"lesson", "quiz", "practice"}


async def test_the_activity_view_has_no_personal_data(
    session: AsyncSession, crowd: dict[str, Account]
) -> None:
    found = await rows(
        session,
        "SELECT user_id::text, verb, object_id, course_id FROM analytics.activity "
        f"WHERE user_id = '{crowd['student'].id}' ORDER BY occurred_at, activity_id",
    )
    verbs = [r["verb"] for r in found]
    assert verbs[0] == "registered"
    assert {"enrolled", "completed", "passed"} <= set(verbs)
    assert {r["course_id"] for r in found if r["verb"] == "enrolled"} == {FREE}
    columns = await rows(
        session,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'analytics' AND table_name = 'activity' ORDER BY ordinal_position",
    )
    assert [c["column_name"] for c in columns] == [
        "activity_id",
        "user_id",
        "verb",
        "object_type",
        "object_id",
        "course_id",
        "result",
        "occurred_at",
    ]
