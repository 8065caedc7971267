"""Enrolling: who may, what it costs, and what happens on repeat, cancel and races."""

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import activity, enroll
from tests.probe import assert_problem

FREE = "course:rest-basics"
PAID = "course:paid-course"
DRAFT = "course:draft-course"


async def test_enrolling_in_a_free_course(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    body = await enroll(client, learner, FREE)
    assert body["status"] == "active"
    assert body["percent_complete"] == 0.0
    assert body["completed_at"] is None
    assert body["course"]["id"] == FREE  # type: ignore[index]
    assert await activity(session, learner) == [("enrolled", FREE)]


async def test_paid_courses_need_a_purchase(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    response = await client.post(
        "/api/v1/enrollments", json={"course_id": PAID}, headers=learner.headers
    )
    assert assert_problem(response, 402, "payment-required")["price_cents"] == 1900
    count = (await session.execute(text("SELECT count(*) FROM enrollments"))).scalar_one()
    assert count == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"course_id": DRAFT}, 404),
        ({"course_id": "course:nope"}, 404),
        ({"course_id": "Rest Basics"}, 422),
        ({"course_id": "lesson:rest-basics-intro"}, 422),
        ({"course_id": FREE, "user_id": "x"}, 422),
        ({}, 422),
    ],
)
async def test_enroll_rejects_bad_requests(
    client: httpx.AsyncClient, loaded: Path, learner: Account, body: dict[str, str], status: int
) -> None:
    response = await client.post("/api/v1/enrollments", json=body, headers=learner.headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_enroll_requires_sign_in(client: httpx.AsyncClient, loaded: Path) -> None:
    response = await client.post("/api/v1/enrollments", json={"course_id": FREE})
    assert response.status_code == 401


async def test_enrolling_twice_is_a_conflict_naming_the_enrollment(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    first = await enroll(client, learner, FREE)
    again = await client.post(
        "/api/v1/enrollments", json={"course_id": FREE}, headers=learner.headers
    )
    assert assert_problem(again, 409, "already-enrolled")["enrollment_id"] == first["id"]


async def test_cancel_then_enroll_again(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    first = await enroll(client, learner, FREE)
    cancelled = await client.post(
        f"/api/v1/enrollments/{first['id']}/cancel", headers=learner.headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    twice = await client.post(f"/api/v1/enrollments/{first['id']}/cancel", headers=learner.headers)
    assert_problem(twice, 409, "enrollment-not-active")
    second = await enroll(client, learner, FREE)
    assert second["id"] != first["id"]
    listed = await client.get("/api/v1/enrollments", headers=learner.headers)
    assert [(e["id"], e["status"]) for e in listed.json()["items"]] == [
        (first["id"], "cancelled"),
        (second["id"], "active"),
    ]
    assert await activity(session, learner) == [
        ("enrolled", FREE),
        ("cancelled", FREE),
        ("enrolled", FREE),
    ]


async def test_nobody_else_sees_or_cancels_my_enrollments(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    mine = await enroll(client, learner, FREE)
    other = await sign_up(client)
    assert (await client.get("/api/v1/enrollments", headers=other.headers)).json()["items"] == []
    response = await client.post(f"/api/v1/enrollments/{mine['id']}/cancel", headers=other.headers)
    assert response.status_code == 404
    assert (await client.post(f"/api/v1/enrollments/{mine['id']}/cancel")).status_code == 401
    malformed = await client.post("/api/v1/enrollments/not-an-id/cancel", headers=learner.headers)
    assert malformed.status_code == 422


async def test_enrollments_are_paged(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    await session.execute(text("UPDATE courses SET price_cents = NULL"))
    await enroll(client, learner, PAID)
    first = await client.get("/api/v1/enrollments", params={"limit": 1}, headers=learner.headers)
    assert len(first.json()["items"]) == 1
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(
        "/api/v1/enrollments",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=learner.headers,
    )
    assert second.json()["next_cursor"] is None
    assert {
        first.json()["items"][0]["course"]["id"],
        second.json()["items"][0]["course"]["id"],
    } == {
        FREE,
        PAID,
    }


async def test_admins_enroll_others_even_in_paid_courses(
    client: httpx.AsyncClient, loaded: Path, admin: Account, learner: Account
) -> None:
    body = {"user_id": learner.id, "course_id": PAID}
    assert (
        await client.post("/api/v1/admin/enrollments", json=body, headers=learner.headers)
    ).status_code == 403
    response = await client.post("/api/v1/admin/enrollments", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    listed = await client.get("/api/v1/enrollments", headers=learner.headers)
    assert [e["course"]["id"] for e in listed.json()["items"]] == [PAID]
    unknown = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": "01a20000-0000-7000-8000-000000000000", "course_id": PAID},
        headers=admin.headers,
    )
    assert unknown.status_code == 404


async def test_parallel_enrolls_make_one_enrollment(
    live_client: httpx.AsyncClient, live_loaded: Path
) -> None:
    account = await sign_up(live_client)
    responses = await asyncio.gather(
        *(
            live_client.post(
                "/api/v1/enrollments", json={"course_id": FREE}, headers=account.headers
            )
            for _ in range(10)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9


CANCEL_TRIALS = 25
"""Each trial races 20 cancels of a fresh enrollment; before the fix, every trial let
several through (up to 10 × 200 and 10 events were seen)."""


async def test_parallel_cancels_one_wins(
    live_client: httpx.AsyncClient, live_loaded: Path, app: FastAPI
) -> None:
    account = await sign_up(live_client)
    outcomes, seen = [], 0
    for _ in range(CANCEL_TRIALS):
        enrollment = await enroll(live_client, account, FREE)
        responses = await asyncio.gather(
            *(
                live_client.post(
                    f"/api/v1/enrollments/{enrollment['id']}/cancel", headers=account.headers
                )
                for _ in range(20)
            )
        )
        async with app.state.engine.connect() as connection:
            events = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM activity_log WHERE actor_id = :u "
                        "AND verb = 'cancelled'"
                    ),
                    {"u": account.id},
                )
            ).scalar_one()
        outcomes.append((sorted(r.status_code for r in responses), events - seen))
        seen = events
    # Per trial: one 200, nineteen 409s, and one new `cancelled` event.
    assert outcomes == [([200] + [409] * 19, 1)] * CANCEL_TRIALS
