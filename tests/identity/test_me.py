"""The signed-in user's own account: profile, password, erasure and data export."""

import json
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.factories import create_course
from tests.identity.helpers import PASSWORD, Account, sign_up


async def test_read_me(client: httpx.AsyncClient, learner: Account) -> None:
    response = await client.get("/api/v1/users/me", headers=learner.headers)
    assert response.status_code == 200
    assert response.json()["id"] == learner.id
    assert "password_hash" not in response.text


async def test_update_name_and_time_zone_records_who_changed_it(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    response = await client.patch(
        "/api/v1/users/me",
        headers=learner.headers,
        json={"name": "  Ada Lovelace ", "time_zone": "Asia/Vladivostok"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["time_zone"]) == (
        "Ada Lovelace",
        "Asia/Vladivostok",
    )
    updated_by = (
        await session.execute(
            text("SELECT updated_by::text FROM users WHERE id = :id"), {"id": learner.id}
        )
    ).scalar_one()
    assert updated_by == learner.id


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "utc "}, "time_zone"),
        ({"name": ""}, "name"),
        ({"role": "admin"}, "role"),
        ({"email": "new@example.org"}, "email"),
        ({"email_verified": True}, "email_verified"),
    ],
)
async def test_update_rejects_bad_or_forbidden_fields(
    client: httpx.AsyncClient, learner: Account, payload: dict[str, object], field: str
) -> None:
    response = await client.patch("/api/v1/users/me", headers=learner.headers, json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert [error["field"] for error in response.json()["errors"]] == [field]
    me = (await client.get("/api/v1/users/me", headers=learner.headers)).json()
    assert (me["role"], me["time_zone"], me["name"]) == ("student", "UTC", "Ada")


async def test_change_password_needs_the_current_one_and_ends_every_sign_in(
    client: httpx.AsyncClient, learner: Account
) -> None:
    wrong = await client.post(
        "/api/v1/users/me/password",
        headers=learner.headers,
        json={"current_password": "not it", "new_password": "a brand new secret"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["field"] == "current_password"

    changed = await client.post(
        "/api/v1/users/me/password",
        headers=learner.headers,
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
    )
    assert changed.status_code == 204
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token}
    )
    assert refreshed.status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": "a brand new secret"}
    )
    assert new.status_code == 200


async def test_new_password_rules_apply(client: httpx.AsyncClient, learner: Account) -> None:
    for new_password, status in (("short", 422), (learner.email.upper(), 422)):
        response = await client.post(
            "/api/v1/users/me/password",
            headers=learner.headers,
            json={"current_password": PASSWORD, "new_password": new_password},
        )
        assert response.status_code == status, new_password


async def test_erase_anonymises_and_frees_the_email_but_keeps_learning_records(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    course = await create_course(session)
    await session.execute(
        text(
            "INSERT INTO lesson_progress (user_id, course_id, lesson_content_id) "
            "VALUES (:u, :c, 'lesson:intro')"
        ),
        {"u": learner.id, "c": course.id},
    )
    response = await client.delete("/api/v1/users/me", headers=learner.headers)
    assert response.status_code == 204

    row = (
        await session.execute(
            text("SELECT email, name, password_hash, deleted_at FROM users WHERE id = :id"),
            {"id": learner.id},
        )
    ).one()
    assert row.email == f"erased-{uuid.UUID(learner.id).hex}@erased.invalid"
    assert row.name == "Erased user"
    assert row.password_hash is None
    assert row.deleted_at is not None
    progress = (
        await session.execute(
            text("SELECT count(*) FROM lesson_progress WHERE user_id = :u"), {"u": learner.id}
        )
    ).scalar_one()
    assert progress == 1
    attempts = (
        await session.execute(
            text("SELECT count(*) FROM auth_login_attempts WHERE email = :e"),
            {"e": learner.email},
        )
    ).scalar_one()
    assert attempts == 0

    assert (await client.get("/api/v1/users/me", headers=learner.headers)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    again = await sign_up(client, email=learner.email)
    assert again.id != learner.id


async def test_export_holds_exactly_my_data_and_no_secrets(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    other = await sign_up(client)
    course = await create_course(session)
    for user_id, lesson in ((learner.id, "lesson:mine"), (other.id, "lesson:theirs")):
        await session.execute(
            text("INSERT INTO enrollments (user_id, course_id) VALUES (:u, :c);"),
            {"u": user_id, "c": course.id},
        )
        await session.execute(
            text(
                "INSERT INTO lesson_progress (user_id, course_id, lesson_content_id) "
                "VALUES (:u, :c, :l)"
            ),
            {"u": user_id, "c": course.id, "l": lesson},
        )
        await session.execute(
            text(
                "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no, details) "
                "VALUES (:u, 'quiz:basics', 1, '{\"answers\": []}')"
            ),
            {"u": user_id},
        )

    response = await client.get("/api/v1/users/me/export", headers=learner.headers)
    assert response.status_code == 200
    export = response.json()
    assert set(export) >= {
        "profile",
        "sessions",
        "sign_in_attempts",
        "enrollments",
        "lesson_progress",
        "quiz_attempts",
        "achievements",
    }
    assert export["profile"]["id"] == learner.id
    assert [row["lesson_content_id"] for row in export["lesson_progress"]] == ["lesson:mine"]
    assert len(export["enrollments"]) == 1
    assert export["quiz_attempts"][0]["details"] == {"answers": []}
    assert len(export["sessions"]) == 1
    text_dump = json.dumps(export)
    assert other.id not in text_dump
    assert other.email not in text_dump
    assert "password_hash" not in text_dump
    assert "token_hash" not in text_dump
    assert learner.refresh_token not in text_dump
    assert (await client.get("/api/v1/users/me/export")).status_code == 401
