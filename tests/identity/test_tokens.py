"""Access tokens that must be refused: forged, tampered, expired, wrong algorithm."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import Account


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims_for(account: Account, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": "syllabus",
        "sub": account.id,
        "role": "student",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_well_formed_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, learner: Account
) -> None:
    token = jwt.encode(claims_for(learner), settings.jwt_secret.get_secret_value(), "HS256")
    assert (await me(client, token)).status_code == 200


def forged_tokens(account: Account, secret: str) -> dict[str, str]:
    good = jwt.encode(claims_for(account), secret, "HS256")
    header, _, signature = good.split(".")
    admin_payload = _b64({**claims_for(account, role="admin"), "iat": 0, "exp": 4102444800})
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': account.id})}.",
        "wrong key": jwt.encode(claims_for(account), "another-secret-" + "y" * 32, "HS256"),
        "tampered payload": f"{header}.{admin_payload}.{signature}",
        "expired": jwt.encode(
            claims_for(account, exp=datetime.now(UTC) - timedelta(seconds=1)), secret, "HS256"
        ),
        "other algorithm": jwt.encode(claims_for(account), secret, "HS512"),
        "no jti": jwt.encode(claims_for(account, jti=None), secret, "HS256"),
        "no exp": jwt.encode(claims_for(account, exp=None), secret, "HS256"),
        "wrong issuer": jwt.encode(claims_for(account, iss="elsewhere"), secret, "HS256"),
        "unknown user": jwt.encode(claims_for(account, sub=str(uuid.uuid4())), secret, "HS256"),
        "subject not a uuid": jwt.encode(claims_for(account, sub="admin"), secret, "HS256"),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "case",
    [
        "alg none",
        "wrong key",
        "tampered payload",
        "expired",
        "other algorithm",
        "no jti",
        "no exp",
        "wrong issuer",
        "unknown user",
        "subject not a uuid",
        "garbage",
    ],
)
async def test_forged_or_broken_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings, learner: Account, case: str
) -> None:
    token = forged_tokens(learner, settings.jwt_secret.get_secret_value())[case]
    response = await me(client, token)
    assert response.status_code == 401, case
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"


async def test_missing_or_non_bearer_authorization_is_refused(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await client.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"


async def test_the_role_comes_from_the_database_not_the_token(
    client: httpx.AsyncClient, settings: Settings, learner: Account
) -> None:
    """A validly signed token claiming admin still gets the account's real role."""
    token = jwt.encode(
        claims_for(learner, role="admin"), settings.jwt_secret.get_secret_value(), "HS256"
    )
    response = await client.get("/api/v1/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
