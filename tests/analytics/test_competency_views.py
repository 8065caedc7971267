"""The competency analytics views (migration 0033) on a dataset built through the API,
against numbers worked out by hand: staff are not counted, nobody is named."""

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.analytics.test_views import rows
from tests.competencies.helpers import FREE, RIGHT, load, name_competencies, take_quiz
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll

INTRO = "lesson:rest-basics-intro"
CODES = ("http.methods", "http.status", "rest.resources")


async def heartbeat(
    client: httpx.AsyncClient, account: Account, session_id: uuid.UUID, seconds: int
) -> None:
    response = await client.put(
        f"/api/v1/progress/lessons/{INTRO}",
        json={
            "status": "started",
            "time_spent": {"session_id": str(session_id), "seconds": seconds},
        },
        headers=account.headers,
    )
    assert response.status_code == 200, response.text


@pytest.fixture
async def cohort(
    client: httpx.AsyncClient,
    session: AsyncSession,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> dict[str, Account]:
    """In the free course: ``recovered`` fails the quiz then passes it twice (mastery
    0.8775 on each competency, its tickets closed); ``strong`` passes it (mastery 1);
    ``idle`` only enrolls; ``author`` (staff) fails it. Time on the intro lesson:
    recovered 120 s + 60 s in two sessions, strong 60 s, the author 250 s."""
    name_competencies(folder)
    await load(folder, mongo, catalog_sessions)
    cohort = {name: await sign_up(client) for name in ("recovered", "strong", "idle", "author")}
    await set_role(session, cohort["author"], "author")
    for account in cohort.values():
        await enroll(client, account, FREE)
    await take_quiz(client, cohort["recovered"], [], "recovered-1")
    await take_quiz(client, cohort["recovered"], RIGHT, "recovered-2")
    await take_quiz(client, cohort["recovered"], RIGHT, "recovered-3")
    await take_quiz(client, cohort["strong"], RIGHT, "strong-1")
    await take_quiz(client, cohort["author"], [], "author-1")
    first, second = uuid.uuid4(), uuid.uuid4()
    await heartbeat(client, cohort["recovered"], first, 90)
    await heartbeat(client, cohort["recovered"], first, 120)
    await heartbeat(client, cohort["recovered"], first, 100)  # late: the largest stays
    await heartbeat(client, cohort["recovered"], second, 60)
    await heartbeat(client, cohort["strong"], uuid.uuid4(), 60)
    await heartbeat(client, cohort["author"], uuid.uuid4(), 250)
    await session.execute(text("RESET ROLE"))  # the analytics schema is the owner's
    return cohort


async def test_competency_gaps_count_learners_per_gap_level(
    session: AsyncSession, cohort: dict[str, Account]
) -> None:
    found = await rows(
        session,
        "SELECT competency, learners, not_assessed, gap_1, gap_2, gap_3, gap_4, gap_5, "
        f"average_mastery FROM analytics.competency_gaps WHERE course_id = '{FREE}' "
        "ORDER BY competency",
    )
    # recovered at 0.8775 (gap 2), strong at 1 (gap 1), idle not assessed; the author,
    # at 0 (gap 5), is staff and not counted.
    assert [tuple(r.values()) for r in found] == [
        (code, 3, 1, 1, 1, 0, 0, 0, Decimal("0.9388")) for code in CODES
    ]


async def test_ticket_flow_counts_opened_and_closed_per_week(
    session: AsyncSession, cohort: dict[str, Account]
) -> None:
    found = await rows(
        session,
        "SELECT week, opened, closed, still_open, median_hours_to_close, "
        "date_trunc('week', now() AT TIME ZONE 'UTC')::date AS this_week "
        f"FROM analytics.ticket_flow WHERE course_id = '{FREE}'",
    )
    (row,) = found
    # recovered's three tickets opened and closed this week; the author's three are staff's.
    assert (row["week"], row["opened"], row["closed"], row["still_open"]) == (
        row["this_week"],
        3,
        3,
        0,
    )
    assert Decimal(0) <= row["median_hours_to_close"] < Decimal(1)


async def test_lesson_time_sums_sessions_per_lesson(
    session: AsyncSession, cohort: dict[str, Account]
) -> None:
    found = await rows(
        session,
        "SELECT course_id, lesson_id, title, learners, sessions, total_seconds, mean_seconds, "
        "median_seconds FROM analytics.lesson_time",
    )
    # recovered 120 + 60 = 180 s in two sessions, strong 60 s; the author's 250 s not counted.
    assert [tuple(r.values()) for r in found] == [
        (FREE, INTRO, "Introduction", 2, 3, 240, 120, 120)
    ]


async def test_the_competency_views_name_no_one(session: AsyncSession) -> None:
    result = await session.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'analytics' AND table_name IN ('competency_gaps', 'ticket_flow', 'lesson_time')"
        )
    )
    columns = set(result.scalars())
    assert {"gap_5", "opened", "median_seconds"} <= columns
    assert not columns & {"user_id", "email", "name", "ticket_id", "description"}
