"""Entitlements decide paid access (DECISIONS 4): admins grant and revoke them, an admin
enrollment grants one, and lessons, enrolling and quiz attempts all ask the one rule."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import activity

FREE = "course:rest-basics"
PAID = "course:paid-course"
PAID_LESSON = "/api/v1/lessons/lesson:paid-course-more"
PAID_QUIZ = "quiz:paid-course-check"


async def grant(client: httpx.AsyncClient, admin: Account, learner: Account) -> httpx.Response:
    return await client.post(
        "/api/v1/admin/entitlements",
        json={"user_id": learner.id, "course_id": PAID},
        headers=admin.headers,
    )


async def test_an_admin_grant_opens_a_paid_course_and_a_revocation_closes_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    admin: Account,
    learner: Account,
) -> None:
    assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 403
    enrolled = await client.post(
        "/api/v1/enrollments", json={"course_id": PAID}, headers=learner.headers
    )
    assert enrolled.status_code == 402

    granted = await grant(client, admin, learner)
    assert granted.status_code == 201, granted.text
    body = granted.json()
    assert (body["source"], body["course_id"], body["current"]) == ("admin", PAID, True)
    assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 200
    enrolled = await client.post(
        "/api/v1/enrollments", json={"course_id": PAID}, headers=learner.headers
    )
    assert enrolled.status_code == 201, enrolled.text
    started = await client.post(f"/api/v1/quizzes/{PAID_QUIZ}/attempts", headers=learner.headers)
    assert started.status_code == 201, started.text

    mine = (await client.get("/api/v1/users/me/entitlements", headers=learner.headers)).json()
    assert [e["id"] for e in mine["items"]] == [body["id"]]

    revoked = await client.delete(f"/api/v1/admin/entitlements/{body['id']}", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["current"] is False
    assert revoked.json()["revoked_at"] is not None
    # The enrollment stays; the paid lesson and the open attempt close with the entitlement.
    assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 403
    attempt = started.json()["id"]
    assert (
        await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=learner.headers)
    ).status_code == 403
    # Both decisions are in the activity log, by the admin.
    rows = (
        await session.execute(
            text(
                "SELECT verb, object_id FROM activity_log WHERE actor_id = :admin "
                "AND object_type = 'entitlement' ORDER BY id"
            ),
            {"admin": admin.id},
        )
    ).all()
    assert [tuple(row) for row in rows] == [("granted", body["id"]), ("revoked", body["id"])]


async def test_grant_and_revoke_refusals(
    client: httpx.AsyncClient, loaded: Path, admin: Account, learner: Account
) -> None:
    first = await grant(client, admin, learner)
    assert first.status_code == 201
    again = await grant(client, admin, learner)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_MEDIA_TYPE

    def body(**fields: str) -> dict[str, str]:
        return {"user_id": learner.id, "course_id": PAID, **fields}

    cases = [
        (body(course_id=FREE), 422),
        (body(course_id="course:nope"), 404),
        (body(user_id="01a20000-0000-7000-8000-000000000000"), 404),
        (body(course_id="paid-course"), 422),
        (body(user_id="nope"), 422),
        ({"user_id": learner.id}, 422),
        (body(extra="x"), 422),
    ]
    for sent, status in cases:
        response = await client.post("/api/v1/admin/entitlements", json=sent, headers=admin.headers)
        assert response.status_code == status, (sent, response.text)
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE

    url = f"/api/v1/admin/entitlements/{first.json()['id']}"
    assert (await client.delete(url, headers=admin.headers)).status_code == 200
    assert (await client.delete(url, headers=admin.headers)).status_code == 409
    unknown = "/api/v1/admin/entitlements/01a20000-0000-7000-8000-000000000000"
    assert (await client.delete(unknown, headers=admin.headers)).status_code == 404
    assert (
        await client.delete("/api/v1/admin/entitlements/nope", headers=admin.headers)
    ).status_code == 422


@pytest.mark.parametrize("role", ["student", "author"])
async def test_only_admins_grant_and_revoke(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account, role: str
) -> None:
    other = await sign_up(client)
    await session.execute(
        text("UPDATE users SET role = :role WHERE id = :id"), {"role": role, "id": other.id}
    )
    assert (await grant(client, other, learner)).status_code == 403
    unknown = "/api/v1/admin/entitlements/01a20000-0000-7000-8000-000000000000"
    assert (await client.delete(unknown, headers=other.headers)).status_code == 403
    assert (await client.get("/api/v1/users/me/entitlements")).status_code == 401


async def test_an_admin_enrollment_grants_the_paid_course(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    admin: Account,
    learner: Account,
) -> None:
    response = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": PAID},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 200
    mine = (await client.get("/api/v1/users/me/entitlements", headers=learner.headers)).json()
    assert [(e["source"], e["course_id"]) for e in mine["items"]] == [("admin", PAID)]
    assert await activity(session, learner) == [("enrolled", PAID)]


async def test_an_ended_entitlement_opens_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    admin: Account,
    learner: Account,
) -> None:
    granted = (await grant(client, admin, learner)).json()
    await session.execute(
        text(
            "UPDATE entitlements SET starts_at = now() - interval '2 days', "
            "ends_at = now() - interval '1 day' WHERE id = :id"
        ),
        {"id": granted["id"]},
    )
    assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 403
    mine = (await client.get("/api/v1/users/me/entitlements", headers=learner.headers)).json()
    assert mine["items"][0]["current"] is False


async def test_a_scoped_entitlement_opens_the_courses_in_its_scope(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    """A subscription's entitlement names a category (or nothing: every paid course)."""
    await session.execute(
        text(
            "INSERT INTO plans (code, title, price_minor, currency, period) "
            "VALUES ('all', 'All', 900, 'USD', 'month')"
        )
    )
    await session.execute(
        text(
            "INSERT INTO subscriptions (user_id, plan_id, provider, provider_subscription_id, "
            " current_period_end, state_at) SELECT :user, id, 'sandbox', 'sub_1', "
            " now() + interval '1 month', now() FROM plans"
        ),
        {"user": learner.id},
    )
    for scope in ("(SELECT id FROM categories WHERE slug = 'programming')", "NULL"):
        await session.execute(text("DELETE FROM entitlements"))
        await session.execute(
            text(
                "INSERT INTO entitlements (user_id, source, category_id, subscription_id, "
                f"ends_at) SELECT :user, 'subscription', {scope}, id, now() + interval '1 day' "
                "FROM subscriptions"
            ),
            {"user": learner.id},
        )
        assert (await client.get(PAID_LESSON, headers=learner.headers)).status_code == 200
