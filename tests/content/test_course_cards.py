"""The card fields of DECISIONS 5, as the loader writes them and the catalog shows them:
language, currency (course.json's, else the default setting), lesson count, total
duration, and the last change of the course's content."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from syllabus.config import ConfigError, load_settings
from syllabus.content.loader.run import load_folder
from tests.content.folder import write_course
from tests.content.test_loader_errors import edit_json

Database = AsyncDatabase[dict[str, Any]]
SLUGS = ("paid-course", "rest-basics")


async def card(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/courses/{slug}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_currency_is_the_courses_own_else_the_default(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    edit_json(
        folder / "courses" / "paid-course" / "course.json", lambda d: d.update(currency="RUB")
    )
    edit_json(folder / "courses" / "rest-basics" / "course.json", lambda d: d.update(language="ru"))
    result = await load_folder(
        folder, database=mongo, sessionmaker=catalog_sessions, default_currency="EUR"
    )
    assert result.ok, result.problems
    paid, free = await card(client, "paid-course"), await card(client, "rest-basics")
    assert (paid["currency"], paid["language"]) == ("RUB", "en")
    assert (free["currency"], free["language"]) == ("EUR", "ru")
    # Analysts read the same in SQL.
    rows = await connection.execute(
        text("SELECT slug, language, currency FROM courses ORDER BY slug")
    )
    assert [tuple(row) for row in rows] == [
        ("draft-course", "en", "EUR"),
        ("paid-course", "en", "RUB"),
        ("rest-basics", "ru", "EUR"),
    ]


async def test_lesson_count_and_duration_follow_the_outline(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    write_course(folder, "long-course", lessons=5)
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    long_course = await card(client, "long-course")
    # Five lessons of 7 minutes each (tests/content/folder.py); the quiz and the practice
    # have no duration.
    assert (long_course["lesson_count"], long_course["duration_minutes"]) == (5, 35)


async def test_updated_at_moves_only_when_the_content_changes(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    async def load() -> None:
        result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
        assert result.ok, result.problems

    async def updated_at() -> dict[str, str]:
        return {slug: (await card(client, slug))["updated_at"] for slug in SLUGS}

    async def age_every_card() -> None:
        # Each test runs in one transaction, where statement_timestamp() still moves
        # but may not have by the next load: push the recorded times back instead.
        await connection.execute(
            text("UPDATE courses SET content_updated_at = content_updated_at - interval '1 day'")
        )

    await load()
    await age_every_card()
    before = await updated_at()
    lesson = folder / "courses" / "paid-course" / "lessons" / "02-more.mdx"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    edit_json(
        folder / "courses" / "rest-basics" / "course.json", lambda d: d.update(currency="GBP")
    )
    await load()
    after = await updated_at()
    assert after["paid-course"] > before["paid-course"]  # one of its lessons changed
    assert after["rest-basics"] == before["rest-basics"]  # a card field is not content
    assert (await card(client, "rest-basics"))["currency"] == "GBP"


@pytest.mark.parametrize("value", ["usd", "ABC", "dollars", ""])
def test_the_default_currency_setting_is_an_iso_4217_code(value: str) -> None:
    with pytest.raises(ConfigError, match="SYLLABUS_DEFAULT_CURRENCY"):
        load_settings(env="test", default_currency=value)
