"""Expert tasks marked by two independent graders, and a third on a discrepancy
(docs/exams.md, "Expert grading"): the free exam's expert task (0, 1 or 2 points) with
``grading.double_check`` and a threshold of 2."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.exams import scoring
from tests.content.folder import write_json
from tests.exams.conftest import answers_for, exam_json, load, start, submit
from tests.identity.helpers import Account, set_role, sign_up

QUEUE = "/api/v1/review/exam-tasks"
DOUBLE = {"double_check": True, "threshold": 2}


@pytest.fixture
async def double_checked(
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    write_json(
        exams / "courses/rest-basics/exams/basics-exam.json",
        exam_json("basics-exam", grading=DOUBLE),
    )
    await load(exams, mongo, catalog_sessions)
    return exams


async def teachers(client: httpx.AsyncClient, session: AsyncSession, n: int) -> list[Account]:
    accounts = [await sign_up(client) for _ in range(n)]
    for account in accounts:
        await set_role(session, account, "teacher")
    return accounts


async def sealed(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    attempt = await start(client, account)
    answers = answers_for(attempt, text="x = 2 because ...")
    response = await submit(client, account, attempt["id"], answers, f"submit-{attempt['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pending(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get(QUEUE, headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def mark(
    client: httpx.AsyncClient, account: Account, item: str, points: int, comment: str = ""
) -> httpx.Response:
    return await client.post(
        f"{QUEUE}/{item}", json={"points": points, "comment": comment}, headers=account.headers
    )


async def result(client: httpx.AsyncClient, account: Account, attempt: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/exam-attempts/{attempt}", headers=account.headers)
    body: dict[str, Any] = response.json()
    return body


def test_settle_rules() -> None:
    assert scoring.settle([], needed=1, threshold=2) == (None, 1)
    assert scoring.settle([1], needed=1, threshold=2) == (1, 1)
    assert scoring.settle([1], needed=2, threshold=2) == (None, 2)
    assert scoring.settle([1, 2], needed=2, threshold=2) == (2, 2)  # the higher one
    assert scoring.settle([2, 1], needed=2, threshold=2) == (2, 2)
    assert scoring.settle([3, 3], needed=2, threshold=2) == (3, 2)
    assert scoring.settle([0, 2], needed=2, threshold=2) == (None, 3)
    assert scoring.settle([4, 1], needed=2, threshold=3) == (None, 3)
    assert scoring.settle([4, 2], needed=2, threshold=3) == (4, 2)
    assert scoring.settle([0, 2], needed=3, threshold=2) == (None, 3)
    assert scoring.settle([0, 2, 1], needed=3, threshold=2) == (1, 3)  # the third's


async def test_two_blind_graders_settle_on_the_higher_mark_within_the_threshold(
    client: httpx.AsyncClient,
    session: AsyncSession,
    double_checked: Path,
    candidate: Account,
) -> None:
    first, second = await teachers(client, session, 2)
    attempt = await sealed(client, candidate)
    [item] = await pending(client, first)
    assert (await mark(client, first, item["id"], 1, "no reasons")).status_code == 200
    again = await mark(client, first, item["id"], 2)
    assert again.status_code == 409
    assert again.json()["code"] == "exam-task-graded"
    assert await pending(client, first) == []
    # Not final after one mark; the second grader sees the task but not the first mark.
    assert (await result(client, candidate, attempt["id"]))["result"]["final"] is False
    [seen] = await pending(client, second)
    assert seen["id"] == item["id"]
    assert (seen["status"], seen["points"], seen["comment"]) == ("pending", None, "")
    assert "no reasons" not in (await client.get(QUEUE, headers=second.headers)).text
    graded = await mark(client, second, item["id"], 2, "fine")
    assert graded.status_code == 200, graded.text
    assert (graded.json()["points"], graded.json()["comment"]) == (2, "fine")
    # Each grader's "graded" list shows their own mark only.
    mine = await client.get(QUEUE, params={"status": "graded"}, headers=first.headers)
    assert [(i["points"], i["comment"]) for i in mine.json()["items"]] == [(1, "no reasons")]
    final = await result(client, candidate, attempt["id"])
    assert (final["result"]["final"], final["result"]["primary_score"]) == (True, 5.0)
    [expert] = [r for r in final["review"] if r["task"] == 4]
    assert expert["points"] == 2
    assert expert["comment"] == "no reasons\n\nfine"
    third = (await teachers(client, session, 1))[0]
    assert await pending(client, third) == []
    late = await mark(client, third, item["id"], 0)
    assert late.status_code == 409


async def test_a_discrepancy_calls_a_third_grader_whose_mark_is_final(
    client: httpx.AsyncClient,
    session: AsyncSession,
    double_checked: Path,
    candidate: Account,
) -> None:
    first, second, third = await teachers(client, session, 3)
    attempt = await sealed(client, candidate)
    [item] = await pending(client, first)
    assert (await mark(client, first, item["id"], 0, "nothing right")).status_code == 200
    assert (await mark(client, second, item["id"], 2, "all right")).status_code == 200
    # 0 and 2 differ by the threshold: still pending, for a grader who has not marked it.
    assert (await result(client, candidate, attempt["id"]))["result"]["final"] is False
    assert await pending(client, first) == await pending(client, second) == []
    [seen] = await pending(client, third)
    assert (seen["id"], seen["points"]) == (item["id"], None)
    for secret in ("nothing right", "all right", candidate.id, candidate.email):
        assert secret not in (await client.get(QUEUE, headers=third.headers)).text
    assert (await mark(client, third, item["id"], 1, "half right")).status_code == 200
    final = await result(client, candidate, attempt["id"])
    assert final["result"] == {
        "version": 2,
        "primary_score": 4.0,
        "max_primary": 5,
        "test_score": 80,
        "passed": True,
        "final": True,
    }
    [expert] = [r for r in final["review"] if r["task"] == 4]
    assert (expert["points"], expert["comment"]) == (1, "half right")
    rows = (
        await session.execute(
            text(
                "SELECT m.seat, m.points, g.points AS final, g.marks_needed "
                "FROM exam_expert_marks m JOIN exam_expert_grades g ON g.id = m.grade_id "
                "ORDER BY m.seat"
            )
        )
    ).all()
    assert [tuple(r) for r in rows] == [(1, 0, 1, 3), (2, 2, 1, 3), (3, 1, 1, 3)]
    fourth = (await teachers(client, session, 1))[0]
    assert (await mark(client, fourth, item["id"], 2)).status_code == 409


async def test_marks_and_settled_points_never_change(
    client: httpx.AsyncClient,
    session: AsyncSession,
    double_checked: Path,
    candidate: Account,
) -> None:
    from sqlalchemy.exc import DBAPIError

    first, second = await teachers(client, session, 2)
    await sealed(client, candidate)
    [item] = await pending(client, first)
    await mark(client, first, item["id"], 1)
    await mark(client, second, item["id"], 1)
    for statement in (
        "UPDATE exam_expert_marks SET points = 2",
        "DELETE FROM exam_expert_marks",
        "UPDATE exam_expert_grades SET points = 2",
        "TRUNCATE exam_expert_marks CASCADE",
    ):
        with pytest.raises(DBAPIError, match=r"append-only|given|permission denied"):
            async with session.begin_nested():
                await session.execute(text(statement))


async def _live_teachers(app: FastAPI, client: httpx.AsyncClient, n: int) -> list[Account]:
    accounts = [await sign_up(client) for _ in range(n)]
    async with app.state.sessionmaker() as session, session.begin():
        for account in accounts:
            await set_role(session, account, "teacher")
    return accounts


@pytest.mark.parametrize(("double", "statuses"), [(True, [200, 200]), (False, [200, 409])])
async def test_two_teachers_marking_one_task_at_once(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    live_learner: Account,
    app: FastAPI,
    mongo: AsyncDatabase[dict[str, object]],
    double: bool,
    statuses: list[int],
) -> None:
    """With a double check both take a seat (1 and 2); with one grader the second is
    refused. Either way the task is settled once and the result appended once."""
    from tests.exams.conftest import write_exams

    folder = write_exams(live_loaded)
    if double:
        write_json(
            folder / "courses/rest-basics/exams/basics-exam.json",
            exam_json("basics-exam", grading=DOUBLE),
        )
    await load(folder, mongo, app.state.sessionmaker)
    graders = await _live_teachers(app, live_client, 2)
    await sealed(live_client, live_learner)
    [item] = await pending(live_client, graders[0])
    responses = await asyncio.gather(*(mark(live_client, t, item["id"], 2) for t in graders))
    assert sorted(r.status_code for r in responses) == statuses, [r.text for r in responses]
    async with app.state.sessionmaker() as session:
        seats = (
            (await session.execute(text("SELECT seat FROM exam_expert_marks ORDER BY seat")))
            .scalars()
            .all()
        )
        expert_versions = (
            await session.execute(text("SELECT count(*) FROM exam_results WHERE reason = 'expert'"))
        ).scalar_one()
        settled = (await session.execute(text("SELECT points FROM exam_expert_grades"))).all()
    assert seats == ([1, 2] if double else [1])
    assert expert_versions == 1
    assert [tuple(r) for r in settled] == [(2,)]


async def test_nothing_is_evidence_until_the_marks_settle(
    client: httpx.AsyncClient,
    session: AsyncSession,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    candidate: Account,
) -> None:
    """With a double check, neither a first mark nor two that differ by the threshold
    move mastery; the third grader's final mark does, once, and opens the ticket."""
    from tests.exams.test_grading import expert_tests_methods, methods_mastery, methods_tickets

    await expert_tests_methods(exams, mongo, catalog_sessions, grading=DOUBLE)
    first, second, third = await teachers(client, session, 3)
    await sealed(client, candidate)
    [item] = await pending(client, first)
    evidence = text("SELECT count(*) FROM competency_evidence WHERE user_id = :u")
    assert (await mark(client, first, item["id"], 0)).status_code == 200
    assert (await session.execute(evidence, {"u": candidate.id})).scalar_one() == 0
    assert await methods_mastery(client, candidate) is None
    assert (await mark(client, second, item["id"], 2)).status_code == 200  # a discrepancy
    assert (await session.execute(evidence, {"u": candidate.id})).scalar_one() == 0
    assert await methods_mastery(client, candidate) is None
    assert await methods_tickets(client, candidate) == []
    assert (await mark(client, third, item["id"], 1)).status_code == 200
    settled = await methods_mastery(client, candidate)
    assert settled is not None
    assert (settled["mastery"], settled["evidence_count"]) == (0.5, 1)
    [ticket] = await methods_tickets(client, candidate)
    assert (ticket["source"], ticket["item"]) == ("exam", None)
    rows = await session.execute(
        text("SELECT points, max_points FROM competency_evidence WHERE user_id = :u"),
        {"u": candidate.id},
    )
    assert [(float(r.points), float(r.max_points)) for r in rows] == [(1, 2)]
