"""The issue's "done when" on the seed content: a learner of the ЕГЭ course makes a plan
for the exam date and gets dated items: every lesson and quiz left, then the sitting."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.exams.test_seed import SEED
from tests.identity.helpers import Account, sign_up

EXAM = "exam:ege-math-profile-2025"


async def test_a_plan_for_the_ege_exam_date(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    admin: Account,
) -> None:
    assert (await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)).ok
    learner = await sign_up(client)
    enrolled = await client.post(  # a paid course: an admin enrolls (no purchase needed)
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": "course:ege-math-profile"},
        headers=admin.headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    today = datetime.now(UTC).date()
    exam_day = today + timedelta(days=60)
    response = await client.post(
        "/api/v1/users/me/study-plans",
        json={"exam_id": EXAM, "target_date": exam_day.isoformat(), "minutes_per_day": 60},
        headers=learner.headers,
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    items = plan["items"]
    kinds = [item["kind"] for item in items]
    assert kinds.count("lesson") >= 10  # every lesson, split into parts where long
    assert kinds.count("quiz") == 2
    assert kinds[-1] == "exam"
    assert (items[-1]["content_id"], items[-1]["minutes"]) == (EXAM, 235)  # one sitting
    days = [date.fromisoformat(item["day"]) for item in items]
    assert days == sorted(days)
    assert today <= days[0]
    assert days[-1] < exam_day
    loads: dict[date, int] = defaultdict(int)
    for day, item in zip(days, items, strict=True):
        loads[day] += item["minutes"]
    assert loads[days[-1]] == 235  # the sitting has its day to itself
    assert all(load <= 60 for day, load in loads.items() if day != days[-1])
    assert plan["daily_minutes"] <= 60
