"""Shortcuts for learning tests, all through the real API or plain SQL."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account


async def enroll(client: httpx.AsyncClient, account: Account, course: str) -> dict[str, object]:
    response = await client.post(
        "/api/v1/enrollments", json={"course_id": course}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def progress(
    client: httpx.AsyncClient, account: Account, lesson: str, **body: object
) -> httpx.Response:
    return await client.put(
        f"/api/v1/progress/lessons/{lesson}", json=body, headers=account.headers
    )


async def pass_quiz(session: AsyncSession, account: Account, quiz: str, course: str) -> None:
    """A passed, submitted attempt (quiz submission arrives with assessment)."""
    await session.execute(
        text(
            "INSERT INTO quiz_attempts (user_id, course_id, quiz_content_id, attempt_no, "
            "submitted_at, score, max_score, passed) "
            "SELECT :u, id, :q, 1, statement_timestamp(), 3, 3, true FROM courses "
            "WHERE content_id = :c"
        ),
        {"u": account.id, "q": quiz, "c": course},
    )


async def activity(session: AsyncSession, account: Account) -> list[tuple[str, str]]:
    """The learner's events after signing up (``registered`` is tested on its own)."""
    rows = await session.execute(
        text(
            "SELECT verb, object_id FROM activity_log "
            "WHERE actor_id = :u AND verb <> 'registered' ORDER BY id"
        ),
        {"u": account.id},
    )
    return [(row.verb, row.object_id) for row in rows]
