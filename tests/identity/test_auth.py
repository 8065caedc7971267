"""Sign-up, sign-in, token rotation and sign-out through the API, on the real stores."""

from typing import Literal

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.identity import security
from tests.identity.helpers import PASSWORD, Account, sign_up, unique_email

PUBLIC_USER_FIELDS = {"id", "email", "name", "role", "email_verified", "time_zone", "created_at"}


def problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, object] = response.json()
    return body


def failing_fields(body: dict[str, object]) -> set[str]:
    errors = body.get("errors")
    assert isinstance(errors, list)
    return {error["field"] for error in errors}


async def test_register_returns_the_public_user_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "  Grace.Hopper@Example.ORG ", "password": PASSWORD, "name": " Grace "},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == PUBLIC_USER_FIELDS
    assert body["email"] == "grace.hopper@example.org"
    assert body["name"] == "Grace"
    assert (body["role"], body["email_verified"], body["time_zone"]) == ("student", False, "UTC")
    row = (
        await session.execute(
            text("SELECT password_hash, created_by::text FROM users WHERE id = :id"),
            {"id": body["id"]},
        )
    ).one()
    assert row.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert row.created_by == body["id"]
    events = (
        await session.execute(
            text("SELECT verb, object_type FROM activity_log WHERE actor_id = :id"),
            {"id": body["id"]},
        )
    ).all()
    assert [tuple(event) for event in events] == [("registered", "user")]


async def test_register_rejects_an_email_in_use_in_any_case(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": account.email.upper(), "password": PASSWORD, "name": "Twin"},
    )
    body = problem(response, 409)
    assert body["field"] == "email"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"email": "a@example.org", "password": "seven77", "name": "A"}, {"password"}),
        ({"email": "a@example.org", "password": "x" * 129, "name": "A"}, {"password"}),
        ({"email": "a@example.org", "password": "A@Example.org", "name": "A"}, {"password"}),
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, {"email"}),
        ({"email": "a@example.org", "password": PASSWORD, "name": "   "}, {"name"}),
        ({"email": "a@example.org", "password": PASSWORD}, {"name"}),
        ({"email": "a@example.org", "password": PASSWORD, "name": "A", "role": "admin"}, {"role"}),
        (
            {"email": "a@example.org", "password": PASSWORD, "name": "A", "email_verified": True},
            {"email_verified"},
        ),
    ],
)
async def test_register_rejects_bad_input_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, payload: dict[str, object], fields: set[str]
) -> None:
    body = problem(await client.post("/api/v1/auth/register", json=payload), 422)
    assert failing_fields(body) == fields
    count = (await session.execute(text("SELECT count(*) FROM users"))).scalar_one()
    assert count == 0


async def test_password_length_is_counted_in_characters(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": "пароль-🙂", "name": "Unicode"},
    )
    assert response.status_code == 201, response.text


async def test_login_issues_a_pinned_short_lived_jwt(
    client: httpx.AsyncClient, settings: Settings, learner: Account
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = jwt.decode(
        body["access_token"], settings.jwt_secret.get_secret_value(), algorithms=["HS256"]
    )
    assert claims["sub"] == learner.id
    assert claims["role"] == "student"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url


async def test_wrong_password_and_unknown_email_get_the_same_answer_and_the_same_work(
    client: httpx.AsyncClient, learner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        """The production parameters, recording the parameters of every hash verified."""

        def __init__(self) -> None:
            real = security.password_hasher()
            super().__init__(
                time_cost=real.time_cost,
                memory_cost=real.memory_cost,
                parallelism=real.parallelism,
                hash_len=real.hash_len,
                salt_len=real.salt_len,
                type=real.type,
            )

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(hash).split("$")[3])
            return super().verify(hash, password)

    counting = CountingHasher()
    monkeypatch.setattr(security, "password_hasher", lambda: counting)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": "wrong password"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": unique_email(), "password": "wrong password"}
    )
    assert problem(wrong, 401) == {**problem(unknown, 401)}
    assert wrong.json()["detail"] == "email or password is incorrect"
    # One full argon2id verification each, with the same parameters.
    assert verified == ["m=19456,t=2,p=1", "m=19456,t=2,p=1"]


async def test_failed_logins_are_recorded_although_the_request_fails(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    await client.post("/api/v1/auth/login", json={"email": learner.email, "password": "nope!!!!"})
    rows = (
        (
            await session.execute(
                text("SELECT succeeded FROM auth_login_attempts WHERE email = :e ORDER BY id"),
                {"e": learner.email},
            )
        )
        .scalars()
        .all()
    )
    assert rows == [True, False]  # the fixture's sign-in, then this failure


async def test_oauth2_password_form_signs_in(client: httpx.AsyncClient, learner: Account) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": learner.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    problem(
        await client.post("/api/v1/auth/token", data={"username": learner.email, "password": "x"}),
        401,
    )
    problem(await client.post("/api/v1/auth/token", data={"username": learner.email}), 422)


async def test_login_rehashes_when_the_parameters_change(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await session.execute(
        text("UPDATE users SET password_hash = :h WHERE id = :id"), {"h": weak, "id": learner.id}
    )
    response = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    stored = (
        await session.execute(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": learner.id}
        )
    ).scalar_one()
    assert stored != weak
    assert "$m=19456,t=2,p=1$" in stored


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    first = await refresh(client, learner.refresh_token)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != learner.refresh_token

    reused = await refresh(client, learner.refresh_token)
    assert problem(reused, 401)["detail"] == (
        "refresh token was already used; the sign-in has been revoked"
    )
    # The thief's copy and the legitimate rotation are both dead now.
    problem(await refresh(client, rotated), 401)
    live = (
        await session.execute(
            text(
                "SELECT count(*) FROM auth_refresh_tokens WHERE user_id = :u AND revoked_at IS NULL"
            ),
            {"u": learner.id},
        )
    ).scalar_one()
    assert live == 0


async def test_refresh_token_rows_store_only_a_hash(
    session: AsyncSession, learner: Account
) -> None:
    hashes = (
        (
            await session.execute(
                text("SELECT token_hash FROM auth_refresh_tokens WHERE user_id = :u"),
                {"u": learner.id},
            )
        )
        .scalars()
        .all()
    )
    assert hashes == [security.hash_refresh_token(learner.refresh_token)]


@pytest.mark.parametrize("token", ["", "garbage", "x" * 201])
async def test_refresh_rejects_unknown_or_malformed_tokens(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await refresh(client, token)
    assert response.status_code in {401, 422}
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    if token == "garbage":
        assert response.status_code == 401


async def test_expired_refresh_token_is_rejected(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    await session.execute(
        text("UPDATE auth_refresh_tokens SET expires_at = now() - interval '1 second'")
    )
    assert problem(await refresh(client, learner.refresh_token), 401)["detail"] == (
        "refresh token has expired"
    )


async def test_logout_ends_the_family_and_is_idempotent(
    client: httpx.AsyncClient, learner: Account
) -> None:
    rotated = (await refresh(client, learner.refresh_token)).json()["refresh_token"]
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": rotated})
    assert response.status_code == 204
    problem(await refresh(client, rotated), 401)
    again = await client.post("/api/v1/auth/logout", json={"refresh_token": rotated})
    assert again.status_code == 204
    unknown = await client.post("/api/v1/auth/logout", json={"refresh_token": "unknown"})
    assert unknown.status_code == 204
    problem(await client.post("/api/v1/auth/logout", json={}), 422)


async def test_logout_all_ends_every_sign_in(client: httpx.AsyncClient, learner: Account) -> None:
    second = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    other_refresh = second.json()["refresh_token"]
    problem(await client.post("/api/v1/auth/logout-all"), 401)
    response = await client.post("/api/v1/auth/logout-all", headers=learner.headers)
    assert response.status_code == 204
    for token in (learner.refresh_token, other_refresh):
        problem(await refresh(client, token), 401)


async def test_tokens_of_a_soft_deleted_user_are_rejected(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    await session.execute(
        text("UPDATE users SET deleted_at = now() WHERE id = :id"), {"id": learner.id}
    )
    problem(await client.get("/api/v1/users/me", headers=learner.headers), 401)
    problem(await refresh(client, learner.refresh_token), 401)
    problem(
        await client.post(
            "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
        ),
        401,
    )


async def test_rotation_never_extends_the_sign_in(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    first_expiry = (
        await session.execute(text("SELECT expires_at FROM auth_refresh_tokens"))
    ).scalar_one()
    rotated = await refresh(client, learner.refresh_token)
    assert rotated.status_code == 200
    expiries = (
        (await session.execute(text("SELECT DISTINCT expires_at FROM auth_refresh_tokens")))
        .scalars()
        .all()
    )
    assert expiries == [first_expiry]


async def test_oauth2_form_applies_the_login_rules(client: httpx.AsyncClient) -> None:
    too_long = await client.post(
        "/api/v1/auth/token", data={"username": "a@example.org", "password": "x" * 129}
    )
    assert too_long.status_code == 422
    assert [error["field"] for error in too_long.json()["errors"]] == ["password"]
    not_email = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "whatever1"}
    )
    assert [error["field"] for error in not_email.json()["errors"]] == ["username"]
