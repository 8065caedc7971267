"""Expert grading by teachers, the final result and its review, and regrades."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.content.folder import add_framework, write_json
from tests.exams.conftest import FREE_EXAM, answers_for, exam_json, load, start, submit
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll
from tests.paging import id_pages

QUEUE = "/api/v1/review/exam-tasks"


async def sealed(
    client: httpx.AsyncClient, account: Account, *, right: bool = True
) -> dict[str, Any]:
    attempt = await start(client, account)
    response = await submit(
        client,
        account,
        attempt["id"],
        answers_for(attempt, right=right, text="x = 2 because ..."),
        f"submit-{attempt['id']}",
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_teachers_grade_without_seeing_who_and_the_result_becomes_final(
    client: httpx.AsyncClient, candidate: Account, teacher: Account
) -> None:
    attempt = await sealed(client, candidate)
    queue = await client.get(QUEUE, headers=teacher.headers)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["task"] == 4
    assert item["answer"] == "x = 2 because ..."
    assert item["problem"]["answer"] in {"GET /books?page=2", "204"}
    assert item["status"] == "pending"
    for secret in (candidate.id, candidate.email, "Ada", attempt["id"]):
        assert secret not in queue.text
    wrong = await client.post(f"{QUEUE}/{item['id']}", json={"points": 3}, headers=teacher.headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "points"
    graded = await client.post(
        f"{QUEUE}/{item['id']}",
        json={"points": 1, "comment": "no reasons"},
        headers=teacher.headers,
    )
    assert graded.status_code == 200, graded.text
    assert (graded.json()["status"], graded.json()["points"]) == ("graded", 1)
    again = await client.post(f"{QUEUE}/{item['id']}", json={"points": 2}, headers=teacher.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "exam-task-graded"
    assert (await client.get(QUEUE, headers=teacher.headers)).json()["items"] == []
    done = await client.get(QUEUE, params={"status": "graded"}, headers=teacher.headers)
    assert [i["id"] for i in done.json()["items"]] == [item["id"]]
    final = (
        await client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=candidate.headers)
    ).json()
    assert final["result"] == {
        "version": 2,
        "primary_score": 4.0,
        "max_primary": 5,
        "test_score": 80,
        "passed": True,
        "final": True,
    }
    review = {r["task"]: r for r in final["review"]}
    assert review[4]["comment"] == "no reasons"
    assert review[4]["points"] == 1
    assert review[1]["correct_answer"]["type"] == "numeric"
    sheet = await client.get(
        f"/api/v1/exam-attempts/{attempt['id']}/sheet", headers=candidate.headers
    )
    assert sheet.status_code == 200
    assert sheet.json()["sha256"] == final["sheet_sha256"]


async def test_the_sheet_and_review_wait_for_the_policy(
    client: httpx.AsyncClient, candidate: Account
) -> None:
    attempt = await sealed(client, candidate)
    closed = await client.get(
        f"/api/v1/exam-attempts/{attempt['id']}/sheet", headers=candidate.headers
    )
    assert closed.status_code == 409
    assert closed.json()["code"] == "exam-review-closed"
    opened = await start(client, candidate)
    not_sealed = await client.get(
        f"/api/v1/exam-attempts/{opened['id']}/sheet", headers=candidate.headers
    )
    assert not_sealed.json()["code"] == "exam-attempt-open-sheet"


async def test_only_teachers_and_admins_work_the_queue(
    client: httpx.AsyncClient,
    session: AsyncSession,
    candidate: Account,
    teacher: Account,
    admin: Account,
) -> None:
    await sealed(client, candidate)
    assert (await client.get(QUEUE)).status_code == 401
    assert (await client.get(QUEUE, headers=candidate.headers)).status_code == 403
    [item] = (await client.get(QUEUE, headers=admin.headers)).json()["items"]
    refused = await client.post(
        f"{QUEUE}/{item['id']}", json={"points": 2}, headers=candidate.headers
    )
    assert refused.status_code == 403
    await session.execute(
        text("UPDATE users SET role = 'teacher' WHERE id = :id"), {"id": candidate.id}
    )
    own = await client.post(f"{QUEUE}/{item['id']}", json={"points": 2}, headers=candidate.headers)
    assert own.status_code == 403
    assert own.json()["code"] == "exam-own-answer"
    unknown = await client.post(
        f"{QUEUE}/00000000-0000-7000-8000-000000000000", json={"points": 2}, headers=teacher.headers
    )
    assert unknown.status_code == 404


async def test_regrade_dry_run_then_apply_appends_a_result_version(
    client: httpx.AsyncClient,
    session: AsyncSession,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    admin: Account,
) -> None:
    learners = [await sign_up(client) for _ in range(2)]
    attempts = []
    for account in learners:
        await enroll(client, account, "course:rest-basics")
        attempts.append(await sealed(client, account))
    before = (
        await session.execute(text("SELECT id, sheet, sheet_sha256 FROM exam_attempts ORDER BY id"))
    ).all()
    # The key of task 1's questions turns out wrong: every right answer is now wrong.
    exam = exam_json("basics-exam")
    for question in exam["tasks"][0]["pool"]:
        question["value"] += 100
    write_json(exams / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(exams, mongo, catalog_sessions)
    url = f"/api/v1/admin/exams/{FREE_EXAM}/regrade"
    dry = await client.post(url, json={"dry_run": True}, headers=admin.headers)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["checked"], len(report["changed"])) == (2, 2)
    change = report["changed"][0]
    assert (change["old"]["primary_score"], change["new"]["primary_score"]) == (3.0, 2.0)
    assert (change["old"]["test_score"], change["new"]["test_score"]) == (60, 40)
    versions = "SELECT count(*) FROM exam_results"
    assert (await session.execute(text(versions))).scalar_one() == 2
    applied = await client.post(url, json={"dry_run": False}, headers=admin.headers)
    assert applied.json()["changed"] == report["changed"]
    assert (await session.execute(text(versions))).scalar_one() == 4
    read = await client.get(
        f"/api/v1/exam-attempts/{attempts[0]['id']}", headers=learners[0].headers
    )
    assert read.json()["result"]["version"] == 2
    assert read.json()["result"]["primary_score"] == 2.0
    after = (
        await session.execute(text("SELECT id, sheet, sheet_sha256 FROM exam_attempts ORDER BY id"))
    ).all()
    assert after == before
    again = await client.post(url, json={"dry_run": False}, headers=admin.headers)
    assert again.json()["changed"] == []
    author_only = await client.post(url, json={}, headers=learners[0].headers)
    assert author_only.status_code == 403
    assert (
        await client.post(
            "/api/v1/admin/exams/exam:nothing/regrade", json={}, headers=admin.headers
        )
    ).status_code == 404


async def test_concurrent_regrades_give_each_changed_attempt_one_new_version(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    journey_loaded: Path,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    """Four applies at once, each committing for real: they run one after the other (the
    regrade lock, as for quizzes), so one appends a version to each changed attempt and
    the others, seeing those versions latest, find nothing left to change."""
    admin = await sign_up(live_client)
    async with app.state.sessionmaker() as admin_session:
        await set_role(admin_session, admin, "admin")
        await admin_session.commit()
    for right in (True, True, True, False):  # the wrong one stays wrong: no new version
        account = await sign_up(live_client)
        await enroll(live_client, account, "course:rest-basics")
        await sealed(live_client, account, right=right)
    exam = exam_json("basics-exam")
    for question in exam["tasks"][0]["pool"]:
        question["value"] += 100
    write_json(journey_loaded / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(journey_loaded, mongo, app.state.sessionmaker)
    url = f"/api/v1/admin/exams/{FREE_EXAM}/regrade"
    replies = await asyncio.gather(
        *(live_client.post(url, json={"dry_run": False}, headers=admin.headers) for _ in range(4))
    )
    assert [reply.status_code for reply in replies] == [200] * 4, [r.text for r in replies]
    assert sorted(len(reply.json()["changed"]) for reply in replies) == [0, 0, 0, 3]
    async with app.state.engine.connect() as connection:
        versions = (
            await connection.execute(
                text("SELECT max(version), count(*) FROM exam_results GROUP BY attempt_id")
            )
        ).all()
    assert sorted(tuple(v) for v in versions) == [(1, 1), (2, 2), (2, 2), (2, 2)]


async def test_exam_prep_counts_reviewed_attempts_only(
    client: httpx.AsyncClient, candidate: Account, teacher: Account
) -> None:
    prep = "/api/v1/users/me/exam-prep"
    first = await sealed(client, candidate)
    assert (await client.get(prep, headers=candidate.headers)).json()["items"] == []
    await grade_all(client, teacher, points=2)
    second = await sealed(client, candidate, right=False)
    await grade_all(client, teacher, points=0)
    assert first["id"] != second["id"]
    [item] = (await client.get(prep, headers=candidate.headers)).json()["items"]
    assert item["attempts_counted"] == 2
    assert [(t["task"], t["topic"], t["best_share"]) for t in item["tasks"]] == [
        (1, "arithmetic", 1.0),
        (2, "task 2", 1.0),
        (3, "task 3", 1.0),
        (4, "task 4", 1.0),
    ]
    assert (item["topics_completed"], item["topics_total"]) == (4, 4)
    # mean shares 0.5 on every task: 0.5 + 0.5 + 0.5 + 1.0 primary points, scale[2] = 40
    assert (item["predicted_primary"], item["predicted_test_score"]) == (2.5, 40)
    assert (await client.get(prep)).status_code == 401


async def grade_all(client: httpx.AsyncClient, teacher: Account, *, points: int) -> None:
    for item in (await client.get(QUEUE, headers=teacher.headers)).json()["items"]:
        graded = await client.post(
            f"{QUEUE}/{item['id']}", json={"points": points}, headers=teacher.headers
        )
        assert graded.status_code == 200, graded.text


async def test_the_analytics_views_count_learners_only(
    client: httpx.AsyncClient,
    session: AsyncSession,
    candidate: Account,
    teacher: Account,
) -> None:
    from tests.isolation import as_owner

    await sealed(client, candidate)
    await grade_all(client, teacher, points=1)
    await sealed(client, candidate, right=False)
    author = await sign_up(client)
    await enroll(client, author, "course:rest-basics")
    await sealed(client, author)
    await session.execute(
        text("UPDATE users SET role = 'author' WHERE id = :id"), {"id": author.id}
    )
    async with as_owner(await session.connection()):
        results = (
            await session.execute(
                text(
                    "SELECT test_score, attempts, learners, passed, awaiting_grading "
                    "FROM analytics.exam_results ORDER BY test_score"
                )
            )
        ).all()
        tasks = (
            await session.execute(
                text(
                    "SELECT task, max_points, attempts, mean_share, full_share "
                    "FROM analytics.exam_task_difficulty ORDER BY task"
                )
            )
        ).all()
        columns = (
            (
                await session.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'analytics' AND table_name LIKE 'exam%'"
                    )
                )
            )
            .scalars()
            .all()
        )
    # the right one: 3 auto + 1 expert = 4 → 80, passed; the wrong one: 0 so far → 0
    assert [tuple(r) for r in results] == [(0, 1, 1, 0, 1), (80, 1, 1, 1, 0)]
    assert [
        (t.task, t.max_points, t.attempts, float(t.mean_share), float(t.full_share)) for t in tasks
    ] == [
        (1, 1, 2, 0.5, 0.5),
        (2, 1, 2, 0.5, 0.5),
        (3, 1, 2, 0.5, 0.5),
        (4, 2, 1, 0.5, 0.0),
    ]
    assert not set(columns) & {"user_id", "email", "name", "answer", "sheet"}


async def test_an_applied_regrade_corrects_the_mastery_its_auto_tasks_gave(
    client: httpx.AsyncClient,
    session: AsyncSession,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    admin: Account,
    candidate: Account,
) -> None:
    """As a quiz regrade does (assessment.items_regraded): task 1's questions test
    status codes; answered right, then the key turns out wrong."""
    add_framework(exams)
    exam = exam_json("basics-exam")
    for question in exam["tasks"][0]["pool"]:
        question["competencies"] = ["http.status"]
    write_json(exams / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(exams, mongo, catalog_sessions)
    await sealed(client, candidate)
    mastery = text(
        "SELECT m.mastery, m.observations FROM competency_mastery m "
        "JOIN competencies c ON c.id = m.competency_id WHERE m.user_id = :u AND c.code = :c"
    )
    params = {"u": candidate.id, "c": "http.status"}
    assert tuple((await session.execute(mastery, params)).one()) == (1, 1)
    for question in exam["tasks"][0]["pool"]:
        question["value"] += 100
    write_json(exams / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(exams, mongo, catalog_sessions)
    url = f"/api/v1/admin/exams/{FREE_EXAM}/regrade"
    dry = await client.post(url, json={"dry_run": True}, headers=admin.headers)
    assert len(dry.json()["changed"]) == 1
    assert tuple((await session.execute(mastery, params)).one()) == (1, 1)
    applied = await client.post(url, json={"dry_run": False}, headers=admin.headers)
    assert applied.status_code == 200, applied.text
    assert tuple((await session.execute(mastery, params)).one()) == (0, 1)
    evidence = await session.execute(
        text("SELECT points, max_points FROM competency_evidence WHERE user_id = :u"),
        {"u": candidate.id},
    )
    assert [tuple(row) for row in evidence] == [(0, 1)]


async def expert_tests_methods(
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    **overrides: Any,
) -> None:
    """The free exam with its expert task (task 4, 0..2 points) naming ``http.methods``."""
    add_framework(exams)
    exam = exam_json("basics-exam", **overrides)
    exam["tasks"][3]["competencies"] = ["http.methods"]
    write_json(exams / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(exams, mongo, catalog_sessions)


async def methods_mastery(client: httpx.AsyncClient, account: Account) -> dict[str, Any] | None:
    response = await client.get("/api/v1/users/me/competencies", headers=account.headers)
    assert response.status_code == 200, response.text
    found = [c for c in response.json()["items"] if c["code"] == "http.methods"]
    return found[0] if found else None


async def methods_tickets(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/users/me/feedback-tickets",
        params={"competency": "http.methods"},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_low_expert_mark_moves_mastery_and_opens_a_secret_ticket(
    client: httpx.AsyncClient,
    session: AsyncSession,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    candidate: Account,
    teacher: Account,
) -> None:
    """A settled expert task is evidence for the competencies it names, in the grading
    transaction, at the problem and exam version the attempt sat; the ticket of a low
    mark names the competency and lessons only (exam tickets never show the item)."""
    await expert_tests_methods(exams, mongo, catalog_sessions)
    first = await sealed(client, candidate)
    assert await methods_mastery(client, candidate) is None  # pending: no evidence yet
    await grade_all(client, teacher, points=2)
    full = await methods_mastery(client, candidate)
    assert full is not None
    assert (full["mastery"], full["evidence_count"]) == (1.0, 1)
    assert await methods_tickets(client, candidate) == []
    second = await sealed(client, candidate)
    await grade_all(client, teacher, points=0)
    low = await methods_mastery(client, candidate)
    assert low is not None
    assert low["mastery"] < full["mastery"]
    assert low["evidence_count"] == 2
    assert low["gap_level"] > full["gap_level"]
    [ticket] = await methods_tickets(client, candidate)
    assert (ticket["status"], ticket["source"], ticket["item"]) == ("to_do", "exam", None)
    assert ticket["container_id"] == FREE_EXAM
    sheets = {a["id"]: a for a in (first, second)}
    rows = (
        await session.execute(
            text(
                "SELECT source_id, item_id, item_version, points, max_points "
                "FROM competency_evidence WHERE user_id = :u ORDER BY created_at"
            ),
            {"u": candidate.id},
        )
    ).all()
    assert [(float(r.points), float(r.max_points)) for r in rows] == [(2, 2), (0, 2)]
    for row in rows:
        attempt = (
            await client.get(f"/api/v1/exam-attempts/{row.source_id}", headers=candidate.headers)
        ).json()
        assert str(row.source_id) in sheets
        assert row.item_version == attempt["exam_version"]
        [problem] = [t["problem"] for t in attempt["tasks"] if t["number"] == 4]
        assert row.item_id == f"{FREE_EXAM}/{problem['id']}"
        assert row.item_id not in str(ticket)
        assert problem["prompt"] not in str(ticket)


async def test_the_queue_filters_by_course_and_exam_in_keyset_pages(
    client: httpx.AsyncClient,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    candidate: Account,
    teacher: Account,
    admin: Account,
) -> None:
    """Tasks of two exams of the free course and of the paid course's exam: each filter
    keeps its own, in the queue's order, one page at a time."""
    write_json(exams / "courses/rest-basics/exams/second-exam.json", exam_json("second-exam"))
    await load(exams, mongo, catalog_sessions)
    paid = await sign_up(client)
    granted = await client.post(
        "/api/v1/admin/entitlements",
        json={"user_id": paid.id, "course_id": "course:paid-course"},
        headers=admin.headers,
    )
    assert granted.status_code in (200, 201), granted.text
    await enroll(client, paid, "course:paid-course")
    for account, exam in (
        (candidate, FREE_EXAM),
        (candidate, FREE_EXAM),
        (candidate, "exam:second-exam"),
        (paid, "exam:paid-exam"),
    ):
        attempt = await start(client, account, exam)
        sent = await submit(client, account, attempt["id"], answers_for(attempt), attempt["id"])
        assert sent.status_code == 200, sent.text
    every = [
        item["id"] for item in (await client.get(QUEUE, headers=teacher.headers)).json()["items"]
    ]
    assert len(every) == 4

    async def pages(**params: str) -> list[list[str]]:
        return await id_pages(client, QUEUE, teacher, **params)

    assert await pages(course_id="course:rest-basics") == [[every[0]], [every[1]], [every[2]]]
    assert await pages(exam_id=FREE_EXAM) == [[every[0]], [every[1]]]
    assert await pages(exam_id="exam:second-exam") == [[every[2]]]
    assert await pages(course_id="course:paid-course") == [[every[3]]]
    assert await pages(course_id="course:paid-course", exam_id=FREE_EXAM) == [[]]
    assert await pages(course_id="course:paid-course", status="graded") == [[]]
    for name, malformed in (("course_id", "rest-basics"), ("exam_id", "quiz:x")):
        refused = await client.get(QUEUE, params={name: malformed}, headers=teacher.headers)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in refused.json()["errors"]] == [name]
