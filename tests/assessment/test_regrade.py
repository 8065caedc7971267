"""Quiz result versions and regrades (DECISIONS 15, docs/assessment.md "Results and
regrades"), committed for real: submitting writes result version 1; an admin's regrade
after a key is corrected reports without writing (dry run) or appends a version per
changed attempt, after which the quiz-passed rule, completion, points and mastery follow
the new result; the submitted attempt never changes; achievements and completions
already given stay; two regrades at once give each attempt one new version."""

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from syllabus.config import to_libpq_url
from syllabus.content.loader.run import load_folder
from syllabus.db import migrate
from tests.content.folder import write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress
from tests.probe import assert_problem

QUIZ = "quiz:rest-basics-check"
REGRADE = f"/api/v1/admin/quizzes/{QUIZ}/regrade"
RIGHT = {
    "question:bank-safe-method": "b",
    "question:legacy-1": 429,
    "question:rest-basics-nouns": True,
}


def answers(**changed: Any) -> list[dict[str, Any]]:
    """The right answers, with some replaced (by the question id's last part)."""
    given = dict(RIGHT)
    for name, value in changed.items():
        given[next(q for q in given if q.endswith(name.replace("_", "-")))] = value
    return [{"question_id": q, "answer": a} for q, a in given.items()]


async def sit(client: httpx.AsyncClient, account: Account, given: list[dict[str, Any]]) -> str:
    started = await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=account.headers)
    assert started.status_code == 201, started.text
    attempt: str = started.json()["id"]
    submitted = await client.post(
        f"/api/v1/quiz-attempts/{attempt}/submit",
        json={"answers": given},
        headers={**account.headers, "Idempotency-Key": f"submit-{attempt}"},
    )
    assert submitted.status_code == 200, submitted.text
    return attempt


async def admin_of(client: httpx.AsyncClient, app: FastAPI) -> Account:
    account = await sign_up(client)
    async with app.state.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": account.id}
        )
    return account


async def correct_keys(
    folder: Path, app: FastAPI, mongo: AsyncDatabase[dict[str, object]], **keys: Any
) -> None:
    """The author fixes keys and reloads: ``safe_method`` (the bank's single choice),
    ``nouns`` (the course quiz's own true/false)."""
    if "safe_method" in keys:
        bank = folder / "questions" / "bank.json"
        questions = json.loads(bank.read_text(encoding="utf-8"))
        questions[0]["correct"] = keys["safe_method"]
        write_json(bank, questions)
    if "nouns" in keys:
        path = folder / "courses" / "rest-basics" / "quizzes" / "check.json"
        quiz = json.loads(path.read_text(encoding="utf-8"))
        quiz["questions"][2]["correct"] = keys["nouns"]
        write_json(path, quiz)
    loaded = await load_folder(folder, database=mongo, sessionmaker=app.state.sessionmaker)
    assert loaded.ok, loaded.problems


async def rows(app: FastAPI, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with app.state.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql), params)).all()]


async def passed(app: FastAPI, account: Account) -> bool:
    [(value,)] = await rows(app, "SELECT quiz_passed(:u, :q)", u=account.id, q=QUIZ)
    return bool(value)


async def state(app: FastAPI) -> list[list[tuple[Any, ...]]]:
    """Everything a regrade may write, to prove a dry run wrote none of it."""
    return [
        await rows(app, f"SELECT * FROM {table} ORDER BY id")
        for table in (
            "quiz_attempts",
            "quiz_results",
            "enrollments",
            "user_achievements",
            "competency_mastery",
            "competency_evidence",
            "feedback_tickets",
            "activity_log",
        )
    ]


async def test_submitting_writes_result_version_1(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    attempt = await sit(live_client, live_learner, answers(legacy_1=400))
    [result] = await rows(
        app,
        "SELECT version, score, max_score, passed, reason, question_points, created_by "
        "FROM quiz_results WHERE attempt_id = :a",
        a=attempt,
    )
    assert result[:5] == (1, 2, 3, True, "sealed")
    assert [(p["question_id"], p["points"], p["correct"]) for p in result[5]] == [
        ("question:bank-safe-method", 1.0, True),
        ("question:legacy-1", 0.0, False),
        ("question:rest-basics-nouns", 1.0, True),
    ]
    assert str(result[6]) == live_learner.id
    read = await live_client.get(f"/api/v1/quiz-attempts/{attempt}", headers=live_learner.headers)
    assert (read.json()["score"], read.json()["result_version"]) == (2.0, 1)


async def test_dry_run_writes_nothing_and_apply_appends_versions_that_the_rules_read(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    admin = await admin_of(live_client, app)
    for lesson in ("lesson:rest-basics-intro", "lesson:rest-basics-more"):
        await progress(live_client, live_learner, lesson, status="completed")
    # "a" was right all along: the learner fails by the wrong key (1 of 3, pass mark 60 %).
    failed = await sit(live_client, live_learner, answers(safe_method="a", legacy_1=400))
    other = await sign_up(live_client)
    await enroll(live_client, other, "course:rest-basics")
    perfect = await sit(live_client, other, answers())
    assert not await passed(app, live_learner)
    stats = await live_client.get("/api/v1/users/me/stats", headers=live_learner.headers)
    points_before = stats.json()["points"]
    sealed = await rows(app, "SELECT * FROM quiz_attempts ORDER BY id")

    await correct_keys(live_loaded, app, mongo, safe_method="a")
    before = await state(app)
    dry = await live_client.post(REGRADE, json={"dry_run": True}, headers=admin.headers)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["dry_run"], report["checked"]) == (True, 2)
    assert {c["attempt_id"]: (c["old"], c["new"], c["version"]) for c in report["changed"]} == {
        failed: (
            {"score": 1.0, "max_score": 3.0, "passed": False},
            {"score": 2.0, "max_score": 3.0, "passed": True},
            2,
        ),
        perfect: (
            {"score": 3.0, "max_score": 3.0, "passed": True},
            {"score": 2.0, "max_score": 3.0, "passed": True},
            2,
        ),
    }
    assert (report["courses_completed"], report["achievements_awarded"]) == (0, 0)
    # Answer secrecy: the report names attempts and totals, never a learner or a question.
    dump = json.dumps(report)
    assert "question:" not in dump
    assert live_learner.id not in dump
    assert await state(app) == before, "a dry run wrote something"
    assert not await passed(app, live_learner)

    applied = await live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
    assert applied.status_code == 200, applied.text
    assert applied.json()["changed"] == report["changed"]
    assert applied.json()["courses_completed"] == 1  # the learner's last requirement
    assert await passed(app, live_learner)
    versions = await rows(
        app,
        "SELECT attempt_id::text, version, reason FROM quiz_results ORDER BY attempt_id, version",
    )
    regraded_by = await rows(
        app, "SELECT DISTINCT created_by::text FROM quiz_results WHERE reason = 'regrade'"
    )
    assert regraded_by == [(admin.id,)]
    assert sorted(versions) == sorted(
        [(a, 1, "sealed") for a in (failed, perfect)]
        + [(a, 2, "regrade") for a in (failed, perfect)]
    )
    assert await rows(app, "SELECT * FROM quiz_attempts ORDER BY id") == sealed
    [(status,)] = await rows(
        app, "SELECT status FROM enrollments WHERE user_id = :u", u=live_learner.id
    )
    assert status == "completed"
    stats = await live_client.get("/api/v1/users/me/stats", headers=live_learner.headers)
    assert stats.json()["points"] == points_before + 50  # the quiz's points, now passed
    read = await live_client.get(f"/api/v1/quiz-attempts/{failed}", headers=live_learner.headers)
    body = read.json()
    assert (body["score"], body["passed"], body["result_version"]) == (2.0, True, 2)
    review = {item["question_id"]: item for item in body["review"]}
    assert review["question:bank-safe-method"]["correct"] is True
    assert review["question:bank-safe-method"]["correct_answer"]["correct"] == "a"
    listed = await live_client.get("/api/v1/quiz-attempts", headers=live_learner.headers)
    assert [(a["score"], a["result_version"]) for a in listed.json()["items"]] == [(2.0, 2)]
    again = await live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
    assert (again.json()["checked"], again.json()["changed"]) == (2, [])


async def test_a_regrade_never_revokes_and_moves_mastery_as_if_graded_so(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    admin = await admin_of(live_client, app)
    async with app.state.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO achievements (code, title, rule) VALUES "
                "('perfect', 'Perfect', '{\"type\": \"quiz_perfect_score\"}')"
            )
        )
    for lesson in ("lesson:rest-basics-intro", "lesson:rest-basics-more"):
        await progress(live_client, live_learner, lesson, status="completed")
    attempt = await sit(live_client, live_learner, answers())  # perfect: passes, completes
    earned = "SELECT a.code FROM user_achievements u JOIN achievements a ON a.id = u.achievement_id WHERE u.user_id = :u ORDER BY a.code"
    awarded = await rows(app, earned, u=live_learner.id)
    assert ("perfect",) in awarded
    mastery = "SELECT mastery, observations FROM competency_mastery WHERE user_id = :u"
    assert [(float(m), n) for m, n in await rows(app, mastery, u=live_learner.id)] == [(1.0, 1)]

    # Both keys were wrong: the learner's answers to them are wrong after all.
    await correct_keys(live_loaded, app, mongo, safe_method="a", nouns=False)
    applied = await live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
    assert applied.status_code == 200, applied.text
    [change] = applied.json()["changed"]
    assert (change["attempt_id"], change["new"]) == (
        attempt,
        {"score": 1.0, "max_score": 3.0, "passed": False},
    )
    assert not await passed(app, live_learner)
    # Never revoked: the achievement and the completion already given stay.
    assert await rows(app, earned, u=live_learner.id) == awarded
    [(status,)] = await rows(
        app, "SELECT status FROM enrollments WHERE user_id = :u", u=live_learner.id
    )
    assert status == "completed"
    # Mastery as if graded so from the start: the one observation is now 0 of 1.
    assert [(float(m), n) for m, n in await rows(app, mastery, u=live_learner.id)] == [(0.0, 1)]
    evidence = await rows(
        app,
        "SELECT item_id, points, max_points, mastery_after FROM competency_evidence "
        "WHERE user_id = :u",
        u=live_learner.id,
    )
    assert [(i, float(p), float(m), float(a)) for i, p, m, a in evidence] == [
        ("question:rest-basics-nouns", 0.0, 1.0, 0.0)
    ]
    tickets = await rows(
        app,
        "SELECT item_id, status, source_id::text FROM feedback_tickets WHERE user_id = :u",
        u=live_learner.id,
    )
    assert tickets == [("question:rest-basics-nouns", "to_do", attempt)]
    # The key was right after all: a second regrade restores mastery and closes the ticket.
    await correct_keys(live_loaded, app, mongo, nouns=True)
    again = await live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
    assert [c["version"] for c in again.json()["changed"]] == [3]
    assert [(float(m), n) for m, n in await rows(app, mastery, u=live_learner.id)] == [(1.0, 1)]
    [(ticket_status,)] = await rows(
        app, "SELECT status FROM feedback_tickets WHERE user_id = :u", u=live_learner.id
    )
    assert ticket_status == "done"


async def test_concurrent_regrades_give_each_attempt_one_new_version(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    admin = await admin_of(live_client, app)
    learners = [live_learner]
    for _ in range(3):
        learners.append(await sign_up(live_client))
        await enroll(live_client, learners[-1], "course:rest-basics")
    for account in learners:
        await sit(live_client, account, answers(safe_method="a"))
    await correct_keys(live_loaded, app, mongo, safe_method="a")
    replies = await asyncio.gather(
        *(
            live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
            for _ in range(4)
        )
    )
    assert [reply.status_code for reply in replies] == [200] * 4
    assert sorted(len(reply.json()["changed"]) for reply in replies) == [0, 0, 0, 4]
    versions = await rows(
        app, "SELECT attempt_id, max(version), count(*) FROM quiz_results GROUP BY attempt_id"
    )
    assert sorted(v[1:] for v in versions) == [(2, 2)] * 4


async def test_regrade_refusals_are_problems(
    live_client: httpx.AsyncClient, app: FastAPI, live_learner: Account
) -> None:
    admin = await admin_of(live_client, app)
    teacher = await sign_up(live_client)
    async with app.state.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET role = 'teacher' WHERE id = :id"), {"id": teacher.id}
        )
    assert_problem(await live_client.post(REGRADE, json={}), 401)
    for account in (live_learner, teacher):
        assert_problem(await live_client.post(REGRADE, json={}, headers=account.headers), 403)
    missing = await live_client.post(
        "/api/v1/admin/quizzes/quiz:nothing/regrade", json={}, headers=admin.headers
    )
    assert_problem(missing, 404)
    bad_id = await live_client.post(
        "/api/v1/admin/quizzes/lesson:x/regrade", json={}, headers=admin.headers
    )
    assert_problem(bad_id, 422)
    bad_body = await live_client.post(REGRADE, json={"dry_run": "maybe"}, headers=admin.headers)
    assert "dry_run" in json.dumps(assert_problem(bad_body, 422))
    unknown = await live_client.post(REGRADE, json={"dry": True}, headers=admin.headers)
    assert_problem(unknown, 422)
    empty = await live_client.post(REGRADE, json={}, headers=admin.headers)
    assert (empty.status_code, empty.json()["dry_run"], empty.json()["checked"]) == (200, True, 0)


async def test_the_migration_gives_every_submitted_attempt_its_version_1(
    scratch_database: str,
) -> None:
    """Attempts submitted before quiz_results existed get version 1 from their own grade,
    dated at their submission; an open attempt gets none; the rule reads them."""
    await asyncio.to_thread(migrate.upgrade, url=scratch_database, revision="0034")
    connection = await asyncpg.connect(to_libpq_url(scratch_database))
    try:
        user = await connection.fetchval(
            "INSERT INTO users (email, name) VALUES ('old@example.org', 'Old') RETURNING id"
        )
        details = json.dumps(
            {
                "questions": [
                    {
                        "question_id": "question:a",
                        "version": 2,
                        "points": 1,
                        "max_points": 1,
                        "correct": True,
                        "correct_answer": {"correct": True},
                    },
                ]
            }
        )
        submitted = await connection.fetchval(
            "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no, started_at, "
            "submitted_at, score, max_score, passed, pass_percent, details) VALUES ($1, "
            "'quiz:old', 1, now() - interval '2 days', now() - interval '1 day', 1, 1, true, 60, "
            "$2) RETURNING id",
            user,
            details,
        )
        await connection.execute(
            "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no) "
            "VALUES ($1, 'quiz:old', 2)",
            user,
        )
        await asyncio.to_thread(migrate.upgrade, url=scratch_database)
        rows = await connection.fetch(
            "SELECT r.attempt_id, r.version, r.score, r.passed, r.reason, r.question_points, "
            "r.created_at = a.submitted_at AS dated FROM quiz_results r "
            "JOIN quiz_attempts a ON a.id = r.attempt_id"
        )
        assert [
            (r["attempt_id"], r["version"], r["score"], r["passed"], r["reason"], r["dated"])
            for r in rows
        ] == [(submitted, 1, 1, True, "sealed", True)]
        assert json.loads(rows[0]["question_points"]) == [
            {
                "question_id": "question:a",
                "version": 2,
                "points": 1,
                "max_points": 1,
                "correct": True,
            }
        ]
        assert await connection.fetchval("SELECT quiz_passed($1, 'quiz:old')", user) is True
    finally:
        await connection.close()


async def test_question_items_follow_the_latest_result_version(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, object]],
    engine: AsyncEngine,
) -> None:
    """Both learners answered "a" to the bank's safe-method question, wrong by the key at
    submission; once the key is corrected to "a" and the regrade applied, the analysts'
    difficulty (share answered right) is 1, on the view and on its materialized twin."""
    admin = await admin_of(live_client, app)
    other = await sign_up(live_client)
    await enroll(live_client, other, "course:rest-basics")
    for account in (live_learner, other):
        await sit(live_client, account, answers(safe_method="a"))

    async def item(view: str) -> list[tuple[Any, ...]]:
        """As an analyst reads it (the owner's connection: analytics is not the app's)."""
        async with engine.begin() as connection:
            if view.endswith("_mat"):
                await connection.execute(text(f"REFRESH MATERIALIZED VIEW analytics.{view}"))
            found = await connection.execute(
                text(
                    f"SELECT answers, difficulty FROM analytics.{view} "
                    "WHERE quiz_id = :q AND question_id = 'question:bank-safe-method'"
                ),
                {"q": QUIZ},
            )
            return [tuple(row) for row in found.all()]

    assert await item("question_items") == [(2, 0)]
    await correct_keys(live_loaded, app, mongo, safe_method="a")
    applied = await live_client.post(REGRADE, json={"dry_run": False}, headers=admin.headers)
    assert len(applied.json()["changed"]) == 2, applied.text
    assert await item("question_items") == [(2, 1)]
    assert await item("question_items_mat") == [(2, 1)]
