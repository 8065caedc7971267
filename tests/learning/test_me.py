"""My courses, bookmarks and notes."""

from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"


async def test_my_progress_lists_every_course_with_rollup_and_resume(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    await session.execute(text("UPDATE courses SET price_cents = NULL"))
    await enroll(client, learner, "course:paid-course")
    await progress(client, learner, "lesson:rest-basics-intro", status="completed")
    courses = (await client.get("/api/v1/users/me/progress", headers=learner.headers)).json()[
        "items"
    ]
    assert [c["course_id"] for c in courses] == [
        FREE,
        "course:paid-course",
    ]  # latest activity first
    rest, paid = courses
    assert (rest["completed_required"], rest["total_required"], rest["percent_complete"]) == (
        1,
        3,
        33.3,
    )
    assert rest["resume"] == {"item_id": "lesson:rest-basics-more", "position": None}
    assert rest["last_activity_at"] is not None
    assert paid["resume"] == {"item_id": "lesson:paid-course-intro", "position": None}
    assert paid["last_activity_at"] is None
    other = await sign_up(client)
    mine = (await client.get("/api/v1/users/me/progress", headers=other.headers)).json()
    assert mine == {"items": [], "next_cursor": None}


async def test_bookmarks_and_notes_are_mine_and_paged(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    await progress(
        client, learner, "lesson:rest-basics-intro", status="started", bookmarked=True, note="first"
    )
    await progress(client, learner, "lesson:rest-basics-more", status="started", bookmarked=True)
    first = await client.get(
        "/api/v1/users/me/bookmarks", params={"limit": 1}, headers=learner.headers
    )
    assert [b["lesson_id"] for b in first.json()["items"]] == ["lesson:rest-basics-intro"]
    assert first.json()["items"][0]["title"] == "Introduction"
    second = await client.get(
        "/api/v1/users/me/bookmarks",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=learner.headers,
    )
    assert [b["lesson_id"] for b in second.json()["items"]] == ["lesson:rest-basics-more"]
    assert second.json()["next_cursor"] is None
    notes = (await client.get("/api/v1/users/me/notes", headers=learner.headers)).json()["items"]
    assert [(n["lesson_id"], n["note"]) for n in notes] == [("lesson:rest-basics-intro", "first")]
    other = await sign_up(client)
    assert (await client.get("/api/v1/users/me/notes", headers=other.headers)).json()["items"] == []
    bad = await client.get(
        "/api/v1/users/me/notes", params={"cursor": "zzz"}, headers=learner.headers
    )
    assert bad.status_code == 422
