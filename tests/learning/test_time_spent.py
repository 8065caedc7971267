"""Time spent on a lesson (DECISIONS 13): heartbeats carry a client session's cumulative
total, the server keeps each session's largest, so a retry, a repeat or a late heartbeat
never counts twice; a lesson's time is the sum of its sessions, shown in the write's
answer, my progress and my stats; out-of-bounds heartbeats are refused (422 naming the
field) and write nothing."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account
from tests.learning.helpers import activity, progress

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"


def beat(session_id: uuid.UUID, seconds: int) -> dict[str, Any]:
    return {"session_id": str(session_id), "seconds": seconds}


async def spent(client: httpx.AsyncClient, account: Account, lesson: str, **body: Any) -> int:
    response = await progress(client, account, lesson, **body)
    assert response.status_code == 200, response.text
    seconds: int = response.json()["time_spent_seconds"]
    return seconds


async def test_a_session_counts_its_largest_total_once_and_sessions_add_up(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert await spent(client, enrolled, INTRO, time_spent=beat(first, 30)) == 30
    assert await spent(client, enrolled, INTRO, time_spent=beat(first, 60)) == 60
    assert await spent(client, enrolled, INTRO, time_spent=beat(first, 60)) == 60  # a retry
    assert await spent(client, enrolled, INTRO, time_spent=beat(first, 45)) == 60  # late
    assert await spent(client, enrolled, INTRO, time_spent=beat(second, 20)) == 80
    # with status, and a write without a heartbeat answers the lesson's time too
    assert (
        await spent(client, enrolled, INTRO, status="started", time_spent=beat(second, 40)) == 100
    )
    assert await spent(client, enrolled, INTRO, bookmarked=True) == 100
    assert await spent(client, enrolled, MORE, time_spent=beat(first, 15)) == 15  # another lesson

    mine = (await client.get("/api/v1/users/me/progress", headers=enrolled.headers)).json()
    assert [(c["course_id"], c["time_spent_seconds"]) for c in mine["items"]] == [(FREE, 115)]
    stats = (await client.get("/api/v1/users/me/stats", headers=enrolled.headers)).json()
    assert stats["time_spent_seconds"] == 115
    rows = (await session.execute(text("SELECT count(*), sum(seconds) FROM lesson_time"))).one()
    assert tuple(rows) == (3, 115)
    # A heartbeat is no event: only the status write started the lesson.
    assert await activity(session, enrolled) == [("enrolled", FREE), ("started", INTRO)]


async def test_a_heartbeat_alone_does_not_start_the_lesson(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    body = (await progress(client, enrolled, INTRO, time_spent=beat(uuid.uuid4(), 10))).json()
    assert (body["status"], body["time_spent_seconds"]) == (None, 10)


async def test_parallel_retries_of_one_heartbeat_count_once(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    session_id = uuid.uuid4()
    responses = await asyncio.gather(
        *(
            progress(live_client, live_learner, INTRO, time_spent=beat(session_id, 50))
            for _ in range(40)
        ),
        *(
            progress(live_client, live_learner, INTRO, time_spent=beat(session_id, 25))
            for _ in range(10)
        ),
    )
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["time_spent_seconds"] for r in responses[:40]} == {50}
    async with app.state.engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT count(*), sum(seconds) FROM lesson_time"))
        ).one()
    assert tuple(rows) == (1, 50)


@pytest.mark.parametrize(
    ("heartbeat", "field"),
    [
        ({"session_id": str(uuid.UUID(int=1)), "seconds": 0}, "time_spent.seconds"),
        ({"session_id": str(uuid.UUID(int=1)), "seconds": 14_401}, "time_spent.seconds"),
        ({"session_id": str(uuid.UUID(int=1)), "seconds": 2.5}, "time_spent.seconds"),
        ({"session_id": "tab-1", "seconds": 30}, "time_spent.session_id"),
        ({"seconds": 30}, "time_spent.session_id"),
        # a first heartbeat may carry at most the lead (300 s) before the clock runs
        ({"session_id": str(uuid.UUID(int=1)), "seconds": 301}, "time_spent.seconds"),
    ],
)
async def test_out_of_bounds_heartbeats_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    enrolled: Account,
    heartbeat: dict[str, Any],
    field: str,
) -> None:
    response = await progress(client, enrolled, INTRO, status="completed", time_spent=heartbeat)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]
    for table in ("lesson_progress", "lesson_time"):
        count = (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
        assert count == 0, table
    assert await activity(session, enrolled) == [("enrolled", FREE)]


async def test_a_session_total_may_not_run_ahead_of_the_clock(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    session_id = uuid.uuid4()
    assert await spent(client, enrolled, INTRO, time_spent=beat(session_id, 300)) == 300
    ahead = await progress(client, enrolled, INTRO, time_spent=beat(session_id, 700))
    assert ahead.status_code == 422
    assert ahead.json()["errors"][0]["type"] == "ahead_of_clock"
    # Ten minutes later (the first heartbeat moved back): 600 s of clock + 300 s of lead.
    await session.execute(
        text("UPDATE lesson_time SET created_at = created_at - interval '10 minutes'")
    )
    assert await spent(client, enrolled, INTRO, time_spent=beat(session_id, 890)) == 890
    refused = await progress(client, enrolled, INTRO, time_spent=beat(session_id, 1000))
    assert refused.status_code == 422
    # an earlier total is a retry, never refused, never counted again
    assert await spent(client, enrolled, INTRO, time_spent=beat(session_id, 700)) == 890
