"""Every list endpoint is free of N+1: the statements sent to PostgreSQL and the commands
sent to MongoDB for a page do not depend on how many items it holds. Counts, never
timings (see tests/querycount.py). And every list pages through all its items."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import make_folder, write_course, write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import activity, enroll, progress
from tests.querycount import counting

SMALL, LARGE = 1, 12


@dataclass(frozen=True)
class Cost:
    status: int
    items: int
    postgresql: int
    mongodb: int


@dataclass
class Harness:
    http: httpx.AsyncClient
    engine: AsyncEngine
    root: Path
    mongo: AsyncDatabase[dict[str, Any]]
    sessions: async_sessionmaker[AsyncSession]

    async def load(self, extra: int) -> None:
        """The small folder plus ``extra`` free courses, categories, tracks and
        achievements (a superset of any smaller load)."""
        make_folder(self.root)
        write_json(
            self.root / "categories.json",
            [{"slug": "programming", "name": "Programming"}]
            + [{"slug": f"cat-{n}", "name": f"Category {n}"} for n in range(extra)],
        )
        write_json(
            self.root / "tracks.json",
            [{"slug": "backend", "name": "Backend", "category": "programming"}]
            + [
                {"slug": f"track-{n}", "name": f"Track {n}", "category": f"cat-{n}"}
                for n in range(extra)
            ],
        )
        write_json(
            self.root / "achievements.json",
            [
                {
                    "code": "first-lesson",
                    "title": "First steps",
                    "rule": {"type": "lessons_completed", "count": 1},
                }
            ]
            + [
                {
                    "code": f"lessons-{n + 2}",
                    "title": f"{n + 2} lessons",
                    "rule": {"type": "lessons_completed", "count": n + 2},
                }
                for n in range(extra)
            ],
        )
        for n in range(extra):
            write_course(self.root, f"extra-{n}")
        result = await load_folder(self.root, database=self.mongo, sessionmaker=self.sessions)
        assert result.ok, result.problems

    async def cost(self, path: str, account: Account | None = None) -> Cost:
        headers = account.headers if account else {}
        async with counting(self.engine) as seen:
            response = await self.http.get(path, headers=headers)
        body = response.json()
        items = body["items"] if isinstance(body, dict) and "items" in body else body
        return Cost(response.status_code, len(items), len(seen["postgresql"]), len(seen["mongodb"]))


@pytest.fixture
async def harness(
    counted_app: FastAPI,
    engine: AsyncEngine,
    tmp_path: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Harness]:
    transport = httpx.ASGITransport(app=counted_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Harness(http, engine, tmp_path / "content", mongo, catalog_sessions)


def same_cost(small: Cost, large: Cost, *, items: tuple[int, int]) -> None:
    assert (small.status, large.status) == (200, 200)
    assert (small.items, large.items) == items
    assert (small.postgresql, small.mongodb) == (large.postgresql, large.mongodb), (small, large)


CATALOG = [
    ("/api/v1/categories", (1 + SMALL, 1 + LARGE)),
    ("/api/v1/tracks", (1 + SMALL, 1 + LARGE)),
    ("/api/v1/courses", (2 + SMALL, 2 + LARGE)),  # rest-basics, paid-course, extras
    ("/api/v1/courses?q=pagination", (2 + SMALL, 2 + LARGE)),
    ("/api/v1/achievements", (1 + SMALL, 1 + LARGE)),
]


@pytest.mark.parametrize(("path", "items"), CATALOG)
async def test_catalog_lists_cost_the_same_whatever_their_size(
    harness: Harness, path: str, items: tuple[int, int]
) -> None:
    await harness.load(SMALL)
    small = await harness.cost(path)
    await harness.load(LARGE)
    large = await harness.cost(path)
    same_cost(small, large, items=items)


async def learner_with(harness: Harness, courses: int) -> Account:
    """Enrolled in ``courses`` free courses; in each, the first lesson completed,
    bookmarked and annotated, and a quiz attempt started."""
    account = await sign_up(harness.http)
    for slug in ["rest-basics", *(f"extra-{n}" for n in range(courses - 1))]:
        await enroll(harness.http, account, f"course:{slug}")
        saved = await progress(
            harness.http,
            account,
            f"lesson:{slug}-intro",
            status="completed",
            bookmarked=True,
            note="remember this",
        )
        assert saved.status_code == 200, saved.text
        started = await harness.http.post(
            f"/api/v1/quizzes/quiz:{slug}-check/attempts", headers=account.headers
        )
        assert started.status_code == 201, started.text
    return account


MINE = [
    "/api/v1/enrollments",
    "/api/v1/users/me/progress",
    "/api/v1/users/me/bookmarks",
    "/api/v1/users/me/notes",
    "/api/v1/quiz-attempts",
    "/api/v1/users/me/achievements",  # one per completed lesson (lessons_completed 1..n)
]


@pytest.mark.parametrize("path", MINE)
async def test_my_lists_cost_the_same_whatever_their_size(harness: Harness, path: str) -> None:
    await harness.load(LARGE)
    few = await learner_with(harness, SMALL)
    many = await learner_with(harness, LARGE)
    same_cost(await harness.cost(path, few), await harness.cost(path, many), items=(SMALL, LARGE))


async def test_admin_user_list_costs_the_same_whatever_its_size(
    harness: Harness, session: AsyncSession
) -> None:
    await session.execute(text("DELETE FROM users"))
    admin = await sign_up(harness.http)
    await session.execute(text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": admin.id})
    small = await harness.cost("/api/v1/admin/users", admin)
    for _ in range(LARGE - 1):
        await sign_up(harness.http)
    large = await harness.cost("/api/v1/admin/users", admin)
    same_cost(small, large, items=(1, LARGE))


def passes(slug: str) -> bool:
    """rest-basics, extra-1, extra-3, ...: every other course of ``learner_with``."""
    return slug == "rest-basics" or int(slug.removeprefix("extra-")) % 2 == 1


async def out_of_time(harness: Harness, session: AsyncSession, courses: int) -> Account:
    """``learner_with`` whose open attempts have all run out of time. Where ``passes``,
    the right answers were autosaved and the other lesson completed, so settling passes
    the quiz with a perfect score and completes the course; elsewhere nothing was
    answered, so the quiz is failed."""
    account = await learner_with(harness, courses)
    listed = await harness.http.get("/api/v1/quiz-attempts", headers=account.headers)
    for attempt in listed.json()["items"]:
        slug = attempt["quiz_id"].removeprefix("quiz:").removesuffix("-check")
        if not passes(slug):
            continue
        answers = [
            {"question_id": "question:bank-safe-method", "answer": "b"},
            {"question_id": "question:legacy-1", "answer": 429},
            {"question_id": f"question:{slug}-nouns", "answer": True},
        ]
        saved = await harness.http.put(
            f"/api/v1/quiz-attempts/{attempt['id']}/answers",
            json={"answers": answers},
            headers=account.headers,
        )
        assert saved.status_code == 200, saved.text
        done = await progress(harness.http, account, f"lesson:{slug}-more", status="completed")
        assert done.status_code == 200, done.text
    await session.execute(
        text(
            "UPDATE quiz_attempts SET deadline = statement_timestamp() - interval '1 minute' "
            "WHERE user_id = :user"
        ),
        {"user": account.id},
    )
    return account


async def test_settling_expired_attempts_costs_the_same_whatever_their_number(
    harness: Harness, session: AsyncSession
) -> None:
    """Listing grades and seals every open attempt past its deadline (plus grace): one or
    twelve of them cost the same statements and commands, with the results of sealing
    them one at a time (scores, course completion, achievements, activity)."""
    await harness.load(LARGE)
    await session.execute(
        text(
            "INSERT INTO achievements (code, title, rule) VALUES "
            "('perfect', 'Perfect', '{\"type\": \"quiz_perfect_score\"}'), "
            "('graduate', 'Graduate', '{\"type\": \"course_completed\"}')"
        )
    )
    few = await out_of_time(harness, session, SMALL)
    many = await out_of_time(harness, session, LARGE)
    before = {account.id: await activity(session, account) for account in (few, many)}
    small = await harness.cost("/api/v1/quiz-attempts", few)
    large = await harness.cost("/api/v1/quiz-attempts", many)
    same_cost(small, large, items=(SMALL, LARGE))
    for account, courses in ((few, SMALL), (many, LARGE)):
        slugs = ["rest-basics", *(f"extra-{n}" for n in range(courses - 1))]
        listed = await harness.http.get("/api/v1/quiz-attempts", headers=account.headers)
        assert {
            item["quiz_id"]: (item["status"], item["score"], item["max_score"], item["passed"])
            for item in listed.json()["items"]
        } == {
            f"quiz:{slug}-check": ("submitted", 3.0 if passes(slug) else 0.0, 3.0, passes(slug))
            for slug in slugs
        }
        enrollments = await harness.http.get(
            f"/api/v1/enrollments?limit={LARGE}", headers=account.headers
        )
        assert {item["course"]["id"]: item["status"] for item in enrollments.json()["items"]} == {
            f"course:{slug}": "completed" if passes(slug) else "active" for slug in slugs
        }
        events = await activity(session, account)
        assert events[: len(before[account.id])] == before[account.id]
        assert sorted(events[len(before[account.id]) :]) == sorted(
            [("passed" if passes(slug) else "failed", f"quiz:{slug}-check") for slug in slugs]
            + [("completed", f"course:{slug}") for slug in slugs if passes(slug)]
            + [("earned", "perfect"), ("earned", "graduate")]
        )


async def walk(harness: Harness, path: str, account: Account) -> list[Any]:
    """Every item of a list, one per page, following ``next_cursor``; ``Link`` is sent
    exactly while there is a next page."""
    items: list[Any] = []
    params = {"limit": "1"}
    for _ in range(50):  # a cursor that does not advance must fail, not loop
        response = await harness.http.get(path, params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 1
        items += page["items"]
        assert ("link" in response.headers) == (page["next_cursor"] is not None)
        if page["next_cursor"] is None:
            return items
        params = {"limit": "1", "cursor": page["next_cursor"]}
    raise AssertionError(f"{path} pages on and on: {items[:5]}")


LISTS = [path for path, _ in CATALOG] + MINE


async def test_one_item_pages_walk_every_list_in_order(harness: Harness) -> None:
    await harness.load(4)
    account = await learner_with(harness, 3)
    for course in ("course:extra-2", "course:extra-3"):  # enrolled, no activity yet
        await enroll(harness.http, account, course)
    for path in LISTS:
        whole = await harness.http.get(path, params={"limit": "100"}, headers=account.headers)
        everything = whole.json()["items"]
        assert len(everything) >= 3, path
        assert await walk(harness, path, account) == everything, path
    progress_list = (
        await harness.http.get("/api/v1/users/me/progress", headers=account.headers)
    ).json()["items"]
    assert [item["last_activity_at"] is None for item in progress_list] == [False] * 3 + [True] * 2
