"""Preferences: documented defaults, PATCH changes only what it sends, every field
validated (422 naming it), exported with the account and erased with it."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.preferences.schemas import DEFAULTS
from tests.identity.helpers import Account

URL = "/api/v1/users/me/preferences"


async def test_defaults_then_partial_updates(client: httpx.AsyncClient, learner: Account) -> None:
    first = await client.get(URL, headers=learner.headers)
    assert first.status_code == 200
    assert first.json() == DEFAULTS.model_dump(mode="json")
    assert first.json()["language"] == "en"
    assert first.json()["notify_email"] is False
    changed = await client.patch(
        URL,
        json={"language": "ru", "voice": "ru-RU-Standard-A", "reminder_time": "19:30:00"},
        headers=learner.headers,
    )
    assert changed.status_code == 200, changed.text
    more = await client.patch(
        URL, json={"speech_rate": 1.5, "theme": "dark"}, headers=learner.headers
    )
    body = more.json()
    assert (body["language"], body["voice"], body["reminder_time"]) == (
        "ru",
        "ru-RU-Standard-A",
        "19:30:00",
    )
    assert (body["speech_rate"], body["theme"]) == (1.5, "dark")
    assert (await client.get(URL, headers=learner.headers)).json() == body
    cleared = await client.patch(
        URL, json={"voice": None, "reminder_time": None}, headers=learner.headers
    )
    assert cleared.json()["voice"] is None
    assert cleared.json()["reminder_time"] is None
    assert cleared.json()["language"] == "ru"


async def test_bad_values_are_refused_by_field(client: httpx.AsyncClient, learner: Account) -> None:
    cases = {
        "language": "de",
        "speech_rate": 3,
        "daily_goal_minutes": -1,
        "theme": "neon",
        "voice": "a b",
        "reminder_time": "25:00",
        "autoplay": "sometimes",
        "role": "admin",
    }
    for field, value in cases.items():
        response = await client.patch(URL, json={field: value}, headers=learner.headers)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in {error["field"] for error in response.json()["errors"]}
    for field in ("language", "autoplay", "daily_goal_minutes"):
        response = await client.patch(URL, json={field: None}, headers=learner.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    offset = await client.patch(
        URL, json={"reminder_time": "19:30:00+03:00"}, headers=learner.headers
    )
    assert offset.status_code == 422
    assert (await client.get(URL, headers=learner.headers)).json() == DEFAULTS.model_dump(
        mode="json"
    )
    assert (await client.get(URL)).status_code == 401


async def test_exported_and_erased(
    client: httpx.AsyncClient, learner: Account, session: AsyncSession
) -> None:
    await client.patch(URL, json={"daily_goal_minutes": 45}, headers=learner.headers)
    export = (await client.get("/api/v1/users/me/export", headers=learner.headers)).json()
    assert export["preferences"][0]["daily_goal_minutes"] == 45
    assert (await client.delete("/api/v1/users/me", headers=learner.headers)).status_code == 204
    left = await session.scalar(
        text("SELECT count(*) FROM user_preferences WHERE user_id = :u"), {"u": learner.id}
    )
    assert left == 0
