"""``GET /courses`` as a catalog page uses it: search as you type, per course language,
with highlighted matches; sort options; free/paid and language filters; and a 422 naming
the parameter for every bad value."""

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from syllabus.catalog.models import TEXT_SEARCH_CONFIGS
from syllabus.content.loader.run import load_folder
from tests.content.test_loader import SEED
from tests.content.test_loader_errors import edit_json
from tests.identity.helpers import Account, sign_up
from tests.probe import assert_problem

Database = AsyncDatabase[dict[str, Any]]
EGE, SQL, REST = "course:ege-math-profile", "course:sql-for-analysts", "course:rest-api-design"


@pytest.fixture
async def seeded(mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]) -> None:
    assert (await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)).ok


async def found(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/courses", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("логар", [EGE]),  # логарифмы
        ("analy", [SQL]),  # Analysts; the English stemmer alone cuts it to "analyt"
        ("windo", [SQL]),
        ("sql anal", [SQL]),  # every word a prefix
        ("логарифмов", [EGE]),  # a whole word still matches its other forms
        ("window functions", [SQL]),
        ("analy -postgresql", []),  # a negation still excludes
        ("zzzz", []),
    ],
)
async def test_search_as_you_type(
    client: httpx.AsyncClient, seeded: None, typed: str, expected: list[str]
) -> None:
    assert ids(await found(client, q=typed)) == expected


async def test_matches_are_highlighted_as_escaped_html(
    client: httpx.AsyncClient, seeded: None
) -> None:
    [sql] = await found(client, q="analy")
    assert sql["highlight"]["title"] == "SQL for <mark>Analysts</mark>"
    [ege] = await found(client, q="логар")
    assert "<mark>логарифмы</mark>" in ege["highlight"]["description"]
    assert "<mark>" not in ege["highlight"]["title"]
    assert (await found(client))[0]["highlight"] is None  # no search, no highlight


async def test_a_headline_cannot_inject_markup(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    edit_json(
        folder / "courses" / "rest-basics" / "course.json",
        lambda d: d.update(title='Caching & "fast" APIs', description="onerror=alert(1) caching"),
    )
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    [course] = await found(client, q="cachi", category="programming", is_free="true")
    assert course["highlight"] == {
        "title": "<mark>Caching</mark> &amp; &quot;fast&quot; APIs",
        "description": "onerror=alert(1) <mark>caching</mark>",
    }


async def test_each_language_searches_with_its_own_stemmer(
    client: httpx.AsyncClient, seeded: None, connection: AsyncConnection
) -> None:
    # The SQL function the generated column uses says what the Python table says.
    for language, config in [*TEXT_SEARCH_CONFIGS.items(), ("haw", "simple")]:
        found_config = await connection.execute(
            text("SELECT search_config(:l)::text"), {"l": language}
        )
        assert found_config.scalar_one() == config, language
    # English stems "functions" to "function": found in English courses only.
    assert ids(await found(client, q="function", language="en")) == [SQL]
    assert ids(await found(client, q="function", language="ru")) == []
    assert ids(await found(client, q="логарифмов", language="ru")) == [EGE]


async def test_filters_free_paid_and_language(client: httpx.AsyncClient, seeded: None) -> None:
    published = {EGE, SQL, REST}
    assert set(ids(await found(client))) == published
    assert ids(await found(client, is_free="true")) == [REST]
    assert set(ids(await found(client, is_free="false"))) == {EGE, SQL}
    assert ids(await found(client, language="ru")) == [EGE]
    assert set(ids(await found(client, language="en"))) == {SQL, REST}
    assert ids(await found(client, language="de")) == []
    assert ids(await found(client, language="en", is_free="false")) == [SQL]


async def enroll_many(session: AsyncSession, course: str, count: int) -> None:
    for _ in range(count):
        await session.execute(
            text(
                "WITH u AS (INSERT INTO users (email, name, password_hash) "
                "VALUES (gen_random_uuid() || '@example.org', 'L', 'x') RETURNING id) "
                "INSERT INTO enrollments (user_id, course_id) "
                "SELECT u.id, c.id FROM u, courses c WHERE c.content_id = :c"
            ),
            {"c": course},
        )


async def pages(client: httpx.AsyncClient, **params: Any) -> list[str]:
    """Every id of a sorted list, one course per page."""
    seen: list[str] = []
    query = {**params, "limit": 1}
    for _ in range(10):
        response = await client.get("/api/v1/courses", params=query)
        assert response.status_code == 200, response.text
        seen += ids(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
        query["cursor"] = cursor
    raise AssertionError("the cursor did not advance")


async def test_sort_options_page_in_the_same_order(
    client: httpx.AsyncClient, session: AsyncSession, seeded: None
) -> None:
    await enroll_many(session, SQL, 3)
    await enroll_many(session, REST, 1)
    await session.execute(
        text(
            "UPDATE courses SET content_updated_at = now() - interval '1 day' WHERE content_id = :c"
        ),
        {"c": EGE},
    )
    by_title = sorted([SQL, REST, EGE], key=lambda c: TITLES[c])
    # The rule: free courses first, then by currency, then by the amount in it.
    cards = await found(client)
    by_price = ids(sorted(cards, key=price_key))
    assert len({price_key(card)[:2] for card in cards}) == len(cards)  # no ties to hide
    expected = {
        "title": by_title,
        "-title": by_title[::-1],
        "price": by_price,
        "-price": by_price[::-1],
        "-popularity": [SQL, REST, EGE],  # 3, 1, 0 live enrollments
        "popularity": [EGE, REST, SQL],
    }
    for sort, order in expected.items():
        assert ids(await found(client, sort=sort)) == order, sort
        assert await pages(client, sort=sort) == order, sort
    newest = ids(await found(client, sort="-updated"))
    assert newest[-1] == EGE  # updated a day before the others
    assert await pages(client, sort="-updated") == newest
    created = ids(await found(client))
    assert ids(await found(client, sort="created")) == created
    assert ids(await found(client, sort="-created")) == created[::-1]
    assert await pages(client, sort="-created") == created[::-1]
    # With a query: relevance by default, any sort on request.
    assert ids(await found(client, q="sql", sort="relevance")) == [SQL]
    matches = ids(await found(client, q="a"))  # a prefix of words in both English ones
    assert sorted(matches) == sorted([SQL, REST])
    assert ids(await found(client, q="a", sort="-price")) == [SQL, REST]


def price_key(card: dict[str, Any]) -> tuple[str, int, str]:
    """How ``sort=price`` orders cards: a free course (free in any currency) first, then
    by ISO 4217 code, then by the amount in that currency's minor units; ties by id."""
    amount = card["price_cents"] or 0
    return ("" if amount == 0 else card["currency"], amount, card["id"])


async def test_price_sort_never_compares_amounts_across_currencies(
    client: httpx.AsyncClient,
    tmp_path: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """REST at 5,000.00 USD, SQL at 49.00 USD, the ЕГЭ course at 2,990.00 RUB: by raw
    minor units the RUB course would sit between the two USD ones (4900 < 299000 <
    500000). Each currency is a block of its own, every page in that order."""
    folder = tmp_path / "seed"
    shutil.copytree(SEED, folder)
    edit_json(
        folder / "courses" / "rest-api-design" / "course.json",
        lambda d: d.update(price_cents=500000),
    )
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    cards = {card["id"]: card for card in await found(client)}
    assert [(cards[c]["currency"], cards[c]["price_cents"]) for c in (EGE, SQL, REST)] == [
        ("RUB", 299000),
        ("USD", 4900),
        ("USD", 500000),
    ]
    assert ids(await found(client, sort="price")) == [EGE, SQL, REST]
    assert await pages(client, sort="price") == [EGE, SQL, REST]
    assert ids(await found(client, sort="-price")) == [REST, SQL, EGE]
    assert await pages(client, sort="-price") == [REST, SQL, EGE]
    assert ids(await found(client, currency="RUB")) == [EGE]
    assert await pages(client, currency="USD", sort="-price") == [REST, SQL]
    edit_json(
        folder / "courses" / "rest-api-design" / "course.json", lambda d: d.update(price_cents=None)
    )
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    assert await pages(client, sort="price") == [REST, EGE, SQL]  # free in any currency
    assert await pages(client, sort="-price") == [SQL, EGE, REST]


TITLES = {
    SQL: "SQL for Analysts",
    REST: "REST API Design",
    EGE: "ЕГЭ по математике: профильный уровень",
}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "newest"}, "sort"),
        ({"sort": "relevance"}, "sort"),  # nothing to be relevant to without q
        ({"sort": "--title"}, "sort"),
        ({"language": "xx"}, "language"),
        ({"language": "EN"}, "language"),
        ({"language": "en-US"}, "language"),
        ({"language": "english"}, "language"),
        ({"is_free": "maybe"}, "is_free"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"q": "-" * 33}, "q"),
    ],
)
async def test_bad_catalog_parameters_are_422_naming_them(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = assert_problem(await client.get("/api/v1/courses", params=params), 422)
    assert [error["field"] for error in body["errors"]] == [field]


async def test_a_cursor_is_refused_by_another_sort(
    client: httpx.AsyncClient, seeded: None, learner: Account
) -> None:
    first = await client.get("/api/v1/courses", params={"sort": "title", "limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    for other in ({"sort": "-title"}, {"sort": "price"}, {}, {"q": "sql"}):
        refused = await client.get("/api/v1/courses", params={**other, "cursor": cursor})
        body = assert_problem(refused, 422)
        assert [error["field"] for error in body["errors"]] == ["cursor"], other
    other_user = await sign_up(client)
    same = await client.get(
        "/api/v1/courses", params={"sort": "title", "cursor": cursor}, headers=other_user.headers
    )
    assert same.status_code == 200
