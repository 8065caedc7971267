"""Lesson progress: the idempotent upsert, its guards, course completion in the same
transaction, and the activity it records exactly once."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account
from tests.isolation import as_owner
from tests.learning.helpers import activity, enroll, pass_quiz, progress

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"
QUIZ = "quiz:rest-basics-check"


async def test_started_then_completed_never_regresses(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    started = await progress(client, enrolled, INTRO, status="started", position={"block": 2})
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "started"
    assert started.json()["completed_at"] is None
    completed = await progress(client, enrolled, INTRO, status="completed")
    completed_at = completed.json()["completed_at"]
    assert completed_at is not None
    assert completed.json()["position"] == {"block": 2}  # untouched fields are kept
    again = await progress(client, enrolled, INTRO, status="started", bookmarked=True)
    assert again.json()["status"] == "completed"
    assert again.json()["completed_at"] == completed_at
    assert again.json()["bookmarked"] is True
    rows = (
        await session.execute(
            text("SELECT count(*) FROM lesson_progress WHERE user_id = :u"), {"u": enrolled.id}
        )
    ).scalar_one()
    assert rows == 1
    assert await activity(session, enrolled) == [
        ("enrolled", FREE),
        ("started", INTRO),
        ("completed", INTRO),
        ("earned", "first-lesson"),  # the folder's achievement, in the same transaction
    ]


async def test_notes_bookmarks_and_positions(client: httpx.AsyncClient, enrolled: Account) -> None:
    response = await progress(
        client,
        enrolled,
        MORE,
        status="started",
        note="Ключевая мысль: ресурсы — существительные",
        bookmarked=True,
    )
    assert response.json()["note"] == "Ключевая мысль: ресурсы — существительные"
    cleared = await progress(client, enrolled, MORE, status="started", note=None)
    assert cleared.json()["note"] is None
    assert cleared.json()["bookmarked"] is True


@pytest.mark.parametrize(
    ("lesson", "body", "status", "field"),
    [
        (INTRO, {"status": "done"}, 422, "status"),
        (INTRO, {}, 422, "status"),
        (INTRO, {"status": None}, 422, "status"),
        (INTRO, {"position": {"block": "b1"}}, 422, "position"),
        (INTRO, {"bookmarked": True, "position": {"block": "b1"}}, 422, "position"),
        (INTRO, {"bookmarked": "yes please"}, 422, "bookmarked"),
        (INTRO, {"note": 7}, 422, "note"),
        (INTRO, {"status": "started", "note": "x" * 10_001}, 422, "note"),
        (INTRO, {"status": "started", "user_id": "someone"}, 422, "user_id"),
        (INTRO, {"status": "started", "position": "page 3"}, 422, "position"),
        ("quiz:rest-basics-check", {"status": "started"}, 422, "lesson_id"),
        ("lesson:does-not-exist", {"status": "started"}, 404, "lesson_id"),
    ],
)
async def test_bad_progress_writes_are_refused(
    client: httpx.AsyncClient,
    session: AsyncSession,
    enrolled: Account,
    lesson: str,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = await client.put(
        f"/api/v1/progress/lessons/{lesson}", json=body, headers=enrolled.headers
    )
    assert response.status_code == status
    problem = response.json()
    fields = [e["field"] for e in problem.get("errors", [])] or [problem.get("field")]
    assert fields == [field]
    count = (await session.execute(text("SELECT count(*) FROM lesson_progress"))).scalar_one()
    assert count == 0


async def test_only_enrolled_learners_record_progress(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    assert (await progress(client, learner, INTRO, status="started")).status_code == 403
    assert (
        await client.put(f"/api/v1/progress/lessons/{INTRO}", json={"status": "started"})
    ).status_code == 401
    enrollment = await enroll(client, learner, FREE)
    await client.post(f"/api/v1/enrollments/{enrollment['id']}/cancel", headers=learner.headers)
    assert (await progress(client, learner, INTRO, status="started")).status_code == 403


async def test_completion_needs_every_required_item_and_happens_with_the_last_write(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    assert (await progress(client, enrolled, INTRO, status="completed")).json()[
        "course_completed"
    ] is False
    last = await progress(client, enrolled, MORE, status="completed")
    assert last.json()["course_completed"] is False  # the required quiz is not passed yet
    await pass_quiz(session, enrolled, QUIZ, FREE)
    await client.put(
        f"/api/v1/progress/lessons/{MORE}", json={"status": "started"}, headers=enrolled.headers
    )
    state = (
        await session.execute(
            text("SELECT status, completed_at FROM enrollments WHERE user_id = :u"),
            {"u": enrolled.id},
        )
    ).one()
    assert state.status == "active"  # nothing was *completed* by that write

    # Un-complete one lesson in the database, then complete it through the API: the
    # write that meets the rule completes the course, in its own transaction.
    await session.execute(
        text(
            "UPDATE lesson_progress SET status = 'started', completed_at = NULL WHERE lesson_content_id = :l"
        ),
        {"l": MORE},
    )
    final = await progress(client, enrolled, MORE, status="completed")
    assert final.json()["course_completed"] is True
    state = (
        await session.execute(
            text("SELECT status, completed_at FROM enrollments WHERE user_id = :u"),
            {"u": enrolled.id},
        )
    ).one()
    assert state.status == "completed"
    assert state.completed_at is not None
    assert ("completed", FREE) in await activity(session, enrolled)


async def test_archived_lessons_keep_history_but_leave_rollups(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    await progress(client, enrolled, INTRO, status="completed")
    before = (await client.get("/api/v1/users/me/progress", headers=enrolled.headers)).json()
    before = before["items"][0]
    assert (before["completed_required"], before["total_required"]) == (1, 3)
    await session.execute(
        text("UPDATE content_index SET status = 'archived' WHERE content_id = :l"), {"l": INTRO}
    )
    after = (await client.get("/api/v1/users/me/progress", headers=enrolled.headers)).json()
    after = after["items"][0]
    assert (after["completed_required"], after["total_required"]) == (0, 2)
    rows = (await session.execute(text("SELECT count(*) FROM lesson_progress"))).scalar_one()
    assert rows == 1  # the history stays
    assert (await progress(client, enrolled, INTRO, status="started")).status_code == 404


async def test_two_hundred_identical_writes_make_one_row_and_one_event(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    account = live_learner
    responses = await asyncio.gather(
        *(progress(live_client, account, INTRO, status="completed") for _ in range(200))
    )
    assert {r.status_code for r in responses} == {200}
    async with app.state.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT count(*) FROM lesson_progress"))).scalar_one()
        events = (
            await connection.execute(
                text(
                    "SELECT verb, count(*) FROM activity_log WHERE object_type = 'lesson' GROUP BY verb"
                )
            )
        ).all()
        completed_at = (
            await connection.execute(
                text("SELECT count(DISTINCT completed_at) FROM lesson_progress")
            )
        ).scalar_one()
        awards = (
            await connection.execute(text("SELECT count(*) FROM user_achievements"))
        ).scalar_one()
    assert rows == 1
    assert awards == 1  # "first lesson", once, whatever the race
    assert sorted(tuple(e) for e in events) == [("completed", 1), ("started", 1)]
    assert completed_at == 1
    assert len({r.json()["completed_at"] for r in responses}) == 1


async def test_the_activity_log_refuses_updates(session: AsyncSession, learner: Account) -> None:
    from sqlalchemy.exc import IntegrityError

    await session.execute(
        text(
            "INSERT INTO activity_log (actor_id, verb, object_type, object_id) VALUES (:u, 'enrolled', 'course', 'course:x')"
        ),
        {"u": learner.id},
    )
    with pytest.raises(IntegrityError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text("UPDATE activity_log SET verb = 'cancelled'"))


async def test_a_bookmark_or_a_note_alone_does_not_start_the_lesson(
    client: httpx.AsyncClient, session: AsyncSession, enrolled: Account
) -> None:
    marked = await progress(client, enrolled, INTRO, bookmarked=True)
    assert marked.status_code == 200, marked.text
    body = marked.json()
    assert (body["status"], body["bookmarked"], body["completed_at"]) == (None, True, None)
    assert (body["course_completed"], body["achievements_earned"]) == (False, [])
    noted = (await progress(client, enrolled, INTRO, note="come back to this")).json()
    assert (noted["status"], noted["bookmarked"], noted["note"]) == (
        None,
        True,
        "come back to this",
    )
    # No lesson event: nothing for a streak to count.
    assert await activity(session, enrolled) == [("enrolled", FREE)]
    stats = (await client.get("/api/v1/users/me/stats", headers=enrolled.headers)).json()
    assert stats["current_streak_days"] == 0
    outline = (await client.get(f"/api/v1/courses/{FREE}/outline", headers=enrolled.headers)).json()
    intro = outline["modules"][0]["items"][0]
    assert (intro["id"], intro["status"], intro["bookmarked"]) == (INTRO, "not_started", True)
    lesson = (await client.get(f"/api/v1/lessons/{INTRO}", headers=enrolled.headers)).json()
    assert lesson["progress"]["status"] == "not_started"
    assert lesson["progress"]["note"] == "come back to this"
    bookmarks = (await client.get("/api/v1/users/me/bookmarks", headers=enrolled.headers)).json()
    assert [b["lesson_id"] for b in bookmarks["items"]] == [INTRO]
    async with as_owner(await session.connection()):  # the analysts' schema
        funnel = (
            await session.execute(
                text("SELECT started FROM analytics.course_funnel WHERE course_id = :c"),
                {"c": FREE},
            )
        ).scalar_one()
    assert funnel == 0  # a bookmark is not a start for analysts either
    # Clearing the note is a write of its own; starting the lesson later is one event.
    cleared = (await progress(client, enrolled, INTRO, note=None)).json()
    assert (cleared["status"], cleared["note"]) == (None, None)
    started = (await progress(client, enrolled, INTRO, status="started")).json()
    assert (started["status"], started["bookmarked"]) == ("started", True)
    await progress(client, enrolled, INTRO, bookmarked=False)  # keeps the status
    again = (await progress(client, enrolled, INTRO, status="started")).json()
    assert (again["status"], again["bookmarked"]) == ("started", False)
    assert await activity(session, enrolled) == [("enrolled", FREE), ("started", INTRO)]
