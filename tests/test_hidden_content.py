"""[1/8] item 16: hidden content reads exactly like absent content. Reported: a lesson of a
draft course answered "no course course:postgres-performance", a missing lesson "no
lesson …", so a 404 confirmed that the draft existed and named its course.

Decision: every route that can meet hidden content (courses, the outline, lessons,
quizzes, starting an attempt, progress writes, enrolling, reading an attempt) answers a
hidden thing with the very response it gives for an absent one: same status, same
headers, same body, apart from the id the caller sent, which the body echoes back (it
tells them nothing they did not send). Each pair below is compared with that id swapped."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.kit.ids import uuid7
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

Ask = Callable[[httpx.AsyncClient, str, dict[str, str]], Awaitable[httpx.Response]]


def get(path: str) -> Ask:
    async def ask(
        client: httpx.AsyncClient, target: str, headers: dict[str, str]
    ) -> httpx.Response:
        return await client.get(path.format(target), headers=headers)

    return ask


def send(method: str, path: str, body: dict[str, Any] | None = None) -> Ask:
    async def ask(
        client: httpx.AsyncClient, target: str, headers: dict[str, str]
    ) -> httpx.Response:
        json = {k: v.format(target) if isinstance(v, str) else v for k, v in (body or {}).items()}
        return await client.request(
            method, path.format(target), json=json if body else None, headers=headers
        )

    return ask


# (what is asked, the hidden thing, an absent thing of the same kind)
ROUTES: list[tuple[str, Ask, str, str]] = [
    ("course by id", get("/api/v1/courses/{}"), "course:draft-course", "course:draft-coursf"),
    ("course by slug", get("/api/v1/courses/{}"), "draft-course", "draft-coursf"),
    ("outline", get("/api/v1/courses/{}/outline"), "course:draft-course", "course:draft-coursf"),
    ("lesson", get("/api/v1/lessons/{}"), "lesson:draft-course-more", "lesson:draft-course-mord"),
    (
        "preview",
        get("/api/v1/lessons/{}"),
        "lesson:draft-course-intro",
        "lesson:draft-course-intrp",
    ),
    ("quiz", get("/api/v1/quizzes/{}"), "quiz:draft-course-check", "quiz:draft-course-checj"),
    (
        "start an attempt",
        send("POST", "/api/v1/quizzes/{}/attempts"),
        "quiz:draft-course-check",
        "quiz:draft-course-checj",
    ),
    (
        "progress",
        send("PUT", "/api/v1/progress/lessons/{}", {"status": "started"}),
        "lesson:draft-course-more",
        "lesson:draft-course-mord",
    ),
    (
        "enroll",
        send("POST", "/api/v1/enrollments", {"course_id": "{}"}),
        "course:draft-course",
        "course:draft-coursf",
    ),
]


async def assert_alike(
    client: httpx.AsyncClient,
    ask: Ask,
    hidden: str,
    absent: str,
    headers: dict[str, str],
    course: str = "draft-course",
) -> httpx.Response:
    seen = await ask(client, hidden, headers)
    unseen = await ask(client, absent, headers)
    assert seen.status_code == unseen.status_code == 404, (seen.text, unseen.text)
    assert seen.text.replace(hidden, absent) == unseen.text
    assert course not in seen.text.replace(hidden, "")  # nothing else names the course
    volatile = {"content-length", "x-request-id", "date"}
    assert {k: v for k, v in seen.headers.items() if k not in volatile} == {
        k: v for k, v in unseen.headers.items() if k not in volatile
    }
    return seen


@pytest.mark.parametrize(("name", "ask", "hidden", "absent"), ROUTES, ids=[r[0] for r in ROUTES])
async def test_hidden_reads_like_absent(
    client: httpx.AsyncClient,
    loaded: Path,
    learner: Account,
    name: str,
    ask: Ask,
    hidden: str,
    absent: str,
) -> None:
    await assert_alike(client, ask, hidden, absent, learner.headers)
    if name not in ("start an attempt", "progress", "enroll"):  # these need a sign-in
        await assert_alike(client, ask, hidden, absent, {})


async def test_a_course_made_draft_again_hides_from_its_own_learners(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, learner: Account
) -> None:
    """Enrolled before the course went back to draft: its content now reads as absent
    to them too, progress writes included (they were a 403 naming the course)."""
    await enroll(client, learner, "course:rest-basics")
    await session.execute(
        text("UPDATE courses SET status = 'draft' WHERE content_id = 'course:rest-basics'")
    )
    for name, ask, draft_hidden, draft_absent in ROUTES:
        if name == "enroll":
            continue  # already enrolled: the course is checked the same way as above
        hidden, absent = (
            value.replace("draft-course", "rest-basics").replace("draft-coursf", "rest-basicz")
            for value in (draft_hidden, draft_absent)
        )
        await assert_alike(client, ask, hidden, absent, learner.headers, "rest-basics")


async def test_someone_elses_attempt_reads_like_none(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, "course:rest-basics")
    attempt = await client.post(
        "/api/v1/quizzes/quiz:rest-basics-check/attempts", headers=learner.headers
    )
    assert attempt.status_code == 201
    other = await sign_up(client)
    absent = str(uuid7())
    for ask in (
        get("/api/v1/quiz-attempts/{}"),
        send("PUT", "/api/v1/quiz-attempts/{}/answers", {"answers": []}),
    ):
        await assert_alike(client, ask, attempt.json()["id"], absent, other.headers)
