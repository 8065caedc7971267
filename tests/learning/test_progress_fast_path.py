"""The lesson progress PUT's fast path (kit/routing.py) answers the common write without
FastAPI's handler, and hands every other request to the declared route, so a client
sees the same answers either way. Each request below is sent as the fast path takes it
(``Content-Type: application/json``) and as only the declared route takes it (the same
media type spelled with a charset), and the two answers are compared byte for byte."""

from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.deps import OptionalClaims, get_claims, oauth2_scheme
from syllabus.identity.security import AccessClaims
from tests.identity.helpers import Account

INTRO = "lesson:rest-basics-intro"
FAST = "application/json"
DECLARED = "application/json; charset=utf-8"


async def both_ways(
    client: httpx.AsyncClient, lesson: str, body: bytes, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    answers = []
    for media_type in (FAST, DECLARED):
        answers.append(
            await client.put(
                f"/api/v1/progress/lessons/{lesson}",
                content=body,
                headers={**headers, "Content-Type": media_type},
            )
        )
    return answers[0], answers[1]


REFUSED = [
    (INTRO, b'{"status": "done"}', 422),
    (INTRO, b"{}", 422),  # refused by the service, after the statement
    (INTRO, b'{"status": null}', 422),
    (INTRO, b'{"position": {"block": "b1"}}', 422),
    (INTRO, b'{"note": 7, "bookmarked": "yes please"}', 422),
    (INTRO, b'{"status": "started", "user_id": "someone"}', 422),
    (INTRO, b'{"status": "started", "time_spent": {"session_id": "x", "seconds": 0}}', 422),
    (INTRO, b'{"status": ', 400),  # not JSON
    (INTRO, b"", 422),  # no body
    (INTRO, b'["started"]', 422),
    ("quiz:rest-basics-check", b'{"status": "started"}', 422),  # not a lesson id
    ("lesson:does-not-exist", b'{"status": "started"}', 404),
]


@pytest.mark.parametrize(("lesson", "body", "status"), REFUSED)
async def test_a_refusal_is_the_same_on_both_paths(
    client: httpx.AsyncClient,
    session: AsyncSession,
    enrolled: Account,
    lesson: str,
    body: bytes,
    status: int,
) -> None:
    fast, declared = await both_ways(client, lesson, body, enrolled.headers)
    assert fast.status_code == declared.status_code == status, fast.text
    assert fast.headers["content-type"] == declared.headers["content-type"]
    assert fast.content == declared.content
    count = (await session.execute(text("SELECT count(*) FROM lesson_progress"))).scalar_one()
    assert count == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="}],
)
async def test_no_or_a_bad_token_is_the_same_401_on_both_paths(
    client: httpx.AsyncClient, loaded: Path, headers: dict[str, str]
) -> None:
    fast, declared = await both_ways(client, INTRO, b'{"status": "started"}', headers)
    assert fast.status_code == declared.status_code == 401
    assert fast.headers["www-authenticate"] == declared.headers["www-authenticate"] == "Bearer"
    assert fast.content == declared.content


async def test_not_enrolled_is_the_same_403_on_both_paths(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    fast, declared = await both_ways(client, INTRO, b'{"status": "started"}', learner.headers)
    assert fast.status_code == declared.status_code == 403
    assert fast.content == declared.content


async def test_a_write_answers_the_same_on_both_paths(
    client: httpx.AsyncClient, enrolled: Account
) -> None:
    body = '{"status": "started", "note": "Ключ — «ресурс»", "position": {"block": "b1"}}'
    fast, declared = await both_ways(client, INTRO, body.encode(), enrolled.headers)
    assert fast.status_code == declared.status_code == 200, fast.text
    assert fast.headers["content-type"] == declared.headers["content-type"]
    first, second = fast.json(), declared.json()
    assert first.pop("updated_at") <= second.pop("updated_at")
    assert first == second
    assert first["note"] == "Ключ — «ресурс»"
    assert '"note":"Ключ — «ресурс»"'.encode() in fast.content  # compact UTF-8, as before


async def test_only_the_common_write_skips_the_declared_handler(
    app: FastAPI, client: httpx.AsyncClient, enrolled: Account
) -> None:
    """The declared route solves ``CurrentClaims``; the fast path never does. A keyed write
    and a refused one are the declared route's."""
    solved: list[str] = []

    async def counted(
        claims: OptionalClaims, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> AccessClaims:
        solved.append("claims")
        return await get_claims(claims, token)

    app.dependency_overrides[get_claims] = counted
    try:
        url = f"/api/v1/progress/lessons/{INTRO}"
        plain = await client.put(url, json={"status": "started"}, headers=enrolled.headers)
        assert plain.status_code == 200
        assert solved == []
        keyed = {**enrolled.headers, "Idempotency-Key": "fast-path-key-1"}
        assert (await client.put(url, json={"status": "started"}, headers=keyed)).status_code == 200
        assert solved == ["claims"]
        refused = await client.put(url, json={"status": "done"}, headers=enrolled.headers)
        assert refused.status_code == 422
        assert solved == ["claims", "claims"]
    finally:
        app.dependency_overrides.pop(get_claims, None)
