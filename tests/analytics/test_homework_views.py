"""``analytics.homework_turnaround`` on submissions made and reviewed through the API,
their times set by hand: counted learners only, nobody named."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.analytics.test_views import rows
from tests.competencies.helpers import FREE, load
from tests.homework.conftest import PRACTICE, submit, with_competencies
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll


async def review(client: httpx.AsyncClient, teacher: Account, **body: Any) -> None:
    [item] = (
        await client.get(
            "/api/v1/review/submissions", params={"status": "submitted"}, headers=teacher.headers
        )
    ).json()["items"]
    done = await client.post(
        f"/api/v1/review/submissions/{item['id']}", json=body, headers=teacher.headers
    )
    assert done.status_code == 200, done.text


async def took(session: AsyncSession, account: Account, version: int, hours: int) -> None:
    """The review of ``account``'s submission ``version`` came ``hours`` after it."""
    await session.execute(
        text(
            "UPDATE submissions SET reviewed_at = submitted_at + make_interval(hours => :h) "
            "WHERE user_id = :u AND version = :v"
        ),
        {"h": hours, "u": account.id, "v": version},
    )


async def test_turnaround_per_practice(
    client: httpx.AsyncClient,
    session: AsyncSession,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await load(with_competencies(folder), mongo, catalog_sessions)
    teacher = await sign_up(client)
    await set_role(session, teacher, "teacher")
    returned_then_reviewed, waiting, author = [await sign_up(client) for _ in range(3)]
    await set_role(session, author, "author")
    for account in (returned_then_reviewed, waiting, author):
        await enroll(client, account, FREE)
    assert (await submit(client, returned_then_reviewed, text="GET /book/1")).status_code == 201
    await review(client, teacher, action="return", what_to_fix="Plural nouns.")
    await took(session, returned_then_reviewed, 1, 2)
    assert (await submit(client, returned_then_reviewed, text="GET /books/1")).status_code == 201
    await review(client, teacher, action="review", score=90)
    await took(session, returned_then_reviewed, 2, 6)
    assert (await submit(client, author, text="staff trying it")).status_code == 201
    await review(client, teacher, action="review", score=10)
    await took(session, author, 1, 100)
    assert (await submit(client, waiting, text="GET /books")).status_code == 201
    await session.execute(text("RESET ROLE"))  # the analytics schema is the owner's
    found = await rows(
        session,
        "SELECT course_id, practice_id, submitted, reviewed, returned, awaiting, "
        "median_hours_to_review, mean_hours_to_review FROM analytics.homework_turnaround",
    )
    # Reviews after 2 h (returned) and 6 h; one still waits; the author's is staff's.
    assert [tuple(r.values()) for r in found] == [
        (FREE, PRACTICE, 3, 1, 1, 1, Decimal("4.00"), Decimal("4.00"))
    ]
    columns = await rows(
        session,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' "
        "AND table_name = 'homework_turnaround'",
    )
    assert not {c["column_name"] for c in columns} & {"user_id", "reviewer_id", "text", "review_id"}
