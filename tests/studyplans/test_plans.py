"""Study plans through the API: what is left, weakest competencies first, laid out on
the days before the target date; items done by the normal progress routes; versions;
every refusal a problem+json naming its field."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.competencies.helpers import FREE, RIGHT, take_quiz
from tests.exams.conftest import FREE_EXAM
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import progress

PLANS = "/api/v1/users/me/study-plans"
INTRO, MORE = "lesson:rest-basics-intro", "lesson:rest-basics-more"
QUIZ, PRACTICE = "quiz:rest-basics-check", "practice:rest-basics-task"


def today() -> date:
    return datetime.now(UTC).date()  # the test accounts' time zone is UTC


def in_days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


async def create(client: httpx.AsyncClient, account: Account, **body: Any) -> httpx.Response:
    return await client.post(PLANS, json=body, headers=account.headers)


async def made(client: httpx.AsyncClient, account: Account, **body: Any) -> dict[str, Any]:
    response = await create(client, account, **body)
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def layout(plan: dict[str, Any]) -> list[tuple[int, str, str | None, int]]:
    """(day offset, kind, content id or competency code, minutes) per item."""
    start = date.fromisoformat(plan["starts_on"])
    return [
        (
            (date.fromisoformat(item["day"]) - start).days,
            item["kind"],
            item["content_id"] or item["competency"]["code"],
            item["minutes"],
        )
        for item in plan["items"]
    ]


async def test_a_fresh_learner_gets_the_course_in_outline_order_at_a_light_pace(
    client: httpx.AsyncClient, student: Account
) -> None:
    plan = await made(client, student, course_id=FREE, target_date=in_days(10), minutes_per_day=60)
    assert plan["starts_on"] == today().isoformat()
    assert (plan["version"], plan["versions"], plan["planner"]) == (1, 1, "sequential")
    assert plan["daily_minutes"] == 30  # 59 minutes of work, 10 days: the light pace
    # Lessons 7 minutes each, the untimed quiz 15 (one sitting), the practice 30.
    assert layout(plan) == [
        (0, "lesson", INTRO, 7),
        (0, "lesson", MORE, 7),
        (0, "quiz", QUIZ, 15),
        (1, "practice", PRACTICE, 30),
    ]
    assert plan["items"][0]["title"] == "Introduction"
    # The practice is optional (practices always are): shown as such, counted apart.
    assert [item["optional"] for item in plan["items"]] == [False, False, False, True]
    assert (plan["items_total"], plan["items_done"]) == (3, 0)
    assert (plan["optional_total"], plan["optional_done"]) == (1, 0)
    assert plan["ends_on"] == in_days(1)
    assert not any(item["done"] or item["overdue"] for item in plan["items"])


async def test_weak_competencies_come_first_weakest_first_with_what_to_reread(
    client: httpx.AsyncClient, student: Account
) -> None:
    await take_quiz(client, student, [], "fail-all")  # every competency at mastery 0
    await take_quiz(client, student, RIGHT[:1], "right-methods")  # http.methods up to 0.65
    plan = await made(client, student, course_id=FREE, target_date=in_days(5), minutes_per_day=45)
    revisions = [item for item in plan["items"] if item["kind"] == "revision"]
    assert [r["competency"]["code"] for r in revisions] == [
        "http.status",  # 0, then its code sorts before rest.resources
        "rest.resources",  # 0
        "http.methods",  # 0.65: weak, but the least weak
    ]
    assert revisions[0]["competency"]["lessons"] == [MORE]  # the lesson naming it
    assert revisions[1]["competency"]["lessons"] == []
    assert [r["minutes"] for r in revisions] == [10, 10, 10]
    assert plan["items"][: len(revisions)] == revisions  # before any other work
    assert revisions[0]["title"]  # the competency's title


async def test_items_are_done_when_progress_says_so_and_regenerating_keeps_versions(
    client: httpx.AsyncClient, student: Account
) -> None:
    plan = await made(client, student, course_id=FREE, target_date=in_days(7), minutes_per_day=30)
    assert (await progress(client, student, INTRO, status="completed")).status_code == 200
    done = await client.put(
        f"/api/v1/progress/practices/{PRACTICE}",
        json={"status": "completed"},
        headers=student.headers,
    )
    assert done.status_code == 200, done.text
    read = await client.get(f"{PLANS}/{plan['id']}", headers=student.headers)
    assert read.status_code == 200, read.text
    status = {item["content_id"]: item["done"] for item in read.json()["items"]}
    assert status == {INTRO: True, MORE: False, QUIZ: False, PRACTICE: True}
    assert (read.json()["items_done"], read.json()["optional_done"]) == (1, 1)

    again = await client.post(
        f"{PLANS}/{plan['id']}/regenerate", json={"minutes_per_day": 20}, headers=student.headers
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert (second["id"], second["version"], second["versions"]) == (plan["id"], 2, 2)
    assert (second["minutes_per_day"], second["target_date"]) == (20, plan["target_date"])
    assert [i["content_id"] for i in second["items"]] == [MORE, QUIZ]  # what is left
    first = await client.get(f"{PLANS}/{plan['id']}?version=1", headers=student.headers)
    assert first.status_code == 200
    assert [i["content_id"] for i in first.json()["items"]] == [INTRO, MORE, QUIZ, PRACTICE]
    assert first.json()["versions"] == 2
    missing = await client.get(f"{PLANS}/{plan['id']}?version=3", headers=student.headers)
    assert missing.status_code == 404
    assert missing.json()["field"] == "version"
    # An empty body keeps the latest version's date and minutes.
    third = await client.post(f"{PLANS}/{plan['id']}/regenerate", json={}, headers=student.headers)
    assert third.status_code == 201, third.text
    assert (third.json()["version"], third.json()["minutes_per_day"]) == (3, 20)


async def test_overdue_items_are_those_before_today_not_done(
    client: httpx.AsyncClient, student: Account, session: AsyncSession
) -> None:
    plan = await made(client, student, course_id=FREE, target_date=in_days(4), minutes_per_day=30)
    await session.execute(  # as if the plan had been made two days ago
        text("UPDATE study_plan_items SET day = day - 2 WHERE user_id = :u"), {"u": student.id}
    )
    assert (await progress(client, student, INTRO, status="completed")).status_code == 200
    read = (await client.get(f"{PLANS}/{plan['id']}", headers=student.headers)).json()
    first_day = [item for item in read["items"] if item["day"] < today().isoformat()]
    assert first_day
    assert all(item["overdue"] is (not item["done"] and not item["optional"]) for item in first_day)
    assert [i["content_id"] for i in first_day if i["optional"]] == [PRACTICE]  # never overdue
    assert not any(item["overdue"] for item in read["items"] if item["day"] >= today().isoformat())


async def test_a_plan_for_an_exam_ends_with_the_sitting_done_once_it_is_sat(
    client: httpx.AsyncClient, student: Account
) -> None:
    plan = await made(
        client, student, exam_id=FREE_EXAM, target_date=in_days(6), minutes_per_day=30
    )
    assert (plan["exam_id"], plan["course_id"]) == (FREE_EXAM, FREE)
    last = plan["items"][-1]
    assert (last["kind"], last["content_id"], last["minutes"]) == ("exam", FREE_EXAM, 10)
    assert last["title"] == "Exam basics-exam"
    assert [i["kind"] for i in plan["items"][:-1]] == ["lesson", "lesson", "quiz", "practice"]
    started = await client.post(f"/api/v1/exams/{FREE_EXAM}/attempts", headers=student.headers)
    assert started.status_code == 201, started.text
    read = (await client.get(f"{PLANS}/{plan['id']}", headers=student.headers)).json()
    assert read["items"][-1]["done"] is False  # started, not sealed
    sealed = await client.post(
        f"/api/v1/exam-attempts/{started.json()['id']}/submit",
        json={"answers": []},
        headers={**student.headers, "Idempotency-Key": "plan-exam-submit"},
    )
    assert sealed.status_code == 200, sealed.text
    read = (await client.get(f"{PLANS}/{plan['id']}", headers=student.headers)).json()
    assert read["items"][-1]["done"] is True


async def test_my_plans_are_keyset_pages_and_nobody_elses(
    client: httpx.AsyncClient, student: Account
) -> None:
    ids = [
        (await made(client, student, course_id=FREE, target_date=in_days(n), minutes_per_day=30))[
            "id"
        ]
        for n in (4, 5, 6)
    ]
    seen, cursor = [], None
    while True:
        page = await client.get(
            PLANS,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=student.headers,
        )
        assert page.status_code == 200, page.text
        seen += [(p["id"], p["items_total"], p["target_date"]) for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [s[0] for s in seen] == ids
    assert [s[2] for s in seen] == [in_days(4), in_days(5), in_days(6)]
    other = await sign_up(client)
    assert (await client.get(PLANS, headers=other.headers)).json()["items"] == []
    for url in (f"{PLANS}/{ids[0]}", f"{PLANS}/{ids[0]}/regenerate"):
        method = "GET" if url.endswith(ids[0]) else "POST"
        body: dict[str, Any] | None = None if method == "GET" else {}
        refused = await client.request(method, url, json=body, headers=other.headers)
        assert refused.status_code == 404, refused.text
        assert refused.json()["field"] == "study_plan_id"


def assert_refused(response: httpx.Response, status: int, code: str, *fields: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["code"] == code, body
    named = {error["field"] for error in body.get("errors") or []} | {body.get("field")}
    assert set(fields) <= named, body


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"target_date": -1}, 422, "validation-failed", ("target_date",)),
        ({"target_date": 0}, 422, "validation-failed", ("target_date",)),
        ({"minutes_per_day": 9}, 422, "validation-failed", ("minutes_per_day",)),
        ({"minutes_per_day": 601}, 422, "validation-failed", ("minutes_per_day",)),
        ({"course_id": "course:no-such-course"}, 404, "not-found", ("course_id",)),
        ({"course_id": "course:draft-course"}, 404, "not-found", ("course_id",)),
        ({"course_id": "course:paid-course"}, 403, "enrollment-required", ("course_id",)),
        ({"course_id": None, "exam_id": "exam:no-such-exam"}, 404, "not-found", ("exam_id",)),
        (
            {"course_id": None, "exam_id": "exam:paid-exam"},
            403,
            "enrollment-required",
            ("exam_id",),
        ),
        ({"exam_id": FREE_EXAM}, 422, "validation-failed", ("body",)),
        ({"course_id": None}, 422, "validation-failed", ("body",)),
        (
            {"target_date": 1, "minutes_per_day": 10},
            422,
            "plan-does-not-fit",
            ("minutes_per_day", "target_date"),
        ),
    ],
    ids=str,
)
async def test_refusals_name_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    student: Account,
    session: AsyncSession,
    body: dict[str, Any],
    status: int,
    code: str,
    fields: tuple[str, ...],
) -> None:
    request = {"course_id": FREE, "target_date": 10, "minutes_per_day": 60, **body}
    request["target_date"] = in_days(request["target_date"])
    response = await create(client, student, **{k: v for k, v in request.items() if v is not None})
    assert_refused(response, status, code, *fields)
    count = await session.execute(text("SELECT count(*) FROM study_plans"))
    assert count.scalar_one() == 0


async def test_a_plan_that_does_not_fit_says_how_many_minutes_would(
    client: httpx.AsyncClient, student: Account
) -> None:
    response = await create(
        client, student, course_id=FREE, target_date=in_days(1), minutes_per_day=20
    )
    assert_refused(response, 422, "plan-does-not-fit", "minutes_per_day", "target_date")
    # The required work on the one day (lessons 7 + 7, quiz 15); the optional practice
    # (30) is not what makes a plan refuse.
    assert response.json()["needed_minutes_per_day"] == 29
    assert (
        await create(client, student, course_id=FREE, target_date=in_days(1), minutes_per_day=59)
    ).status_code == 201


async def test_optional_work_is_left_out_where_it_does_not_fit(
    client: httpx.AsyncClient, student: Account
) -> None:
    """One day at 30 minutes: the 29 required minutes fit, the optional 30-minute practice
    does not; the plan is made without it (not refused for it)."""
    plan = await made(client, student, course_id=FREE, target_date=in_days(1), minutes_per_day=30)
    assert layout(plan) == [
        (0, "lesson", INTRO, 7),
        (0, "lesson", MORE, 7),
        (0, "quiz", QUIZ, 15),
    ]
    assert (plan["items_total"], plan["optional_total"], plan["daily_minutes"]) == (3, 0, 30)


async def test_optional_work_alone_is_nothing_to_plan(
    client: httpx.AsyncClient, student: Account
) -> None:
    """Every required item done (both lessons, the quiz passed) and no weak competency:
    the optional practice left does not make a plan."""
    for lesson in (INTRO, MORE):
        assert (await progress(client, student, lesson, status="completed")).status_code == 200
    await take_quiz(client, student, RIGHT, "all-right")
    response = await create(
        client, student, course_id=FREE, target_date=in_days(3), minutes_per_day=30
    )
    assert_refused(response, 422, "nothing-to-plan", "course_id")
    assert "1 optional item" in response.json()["detail"]


async def test_nothing_left_to_do_is_refused_by_name(
    client: httpx.AsyncClient, student: Account
) -> None:
    for lesson in (INTRO, MORE):
        assert (await progress(client, student, lesson, status="completed")).status_code == 200
    await client.put(
        f"/api/v1/progress/practices/{PRACTICE}",
        json={"status": "completed"},
        headers=student.headers,
    )
    await take_quiz(client, student, RIGHT, "all-right")  # passed; every mastery 1
    response = await create(
        client, student, course_id=FREE, target_date=in_days(3), minutes_per_day=30
    )
    assert_refused(response, 422, "nothing-to-plan", "course_id")
