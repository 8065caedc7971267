"""Sitting an exam: start (drawn variant, deadline), autosave (the answer log), submit
(the sealed sheet), the deadline, and every refusal."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from syllabus.content.service import snapshots
from syllabus.exams import scoring
from tests.exams.conftest import (
    FREE_EXAM,
    PAID_EXAM,
    answers_for,
    start,
    submit,
)
from tests.identity.helpers import Account
from tests.learning.helpers import enroll


async def save(
    client: httpx.AsyncClient, account: Account, attempt_id: str, answers: list[dict[str, Any]]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/exam-attempts/{attempt_id}/answers",
        json={"answers": answers},
        headers=account.headers,
    )


async def events(session: AsyncSession, attempt_id: str) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT seq, task, answer, at, prev_hash, hash FROM exam_answer_events "
            "WHERE attempt_id = :a ORDER BY seq"
        ),
        {"a": attempt_id},
    )
    return list(rows)


async def test_start_draws_a_recorded_reproducible_variant_without_keys(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    assert attempt["status"] == "open"
    assert attempt["attempt_no"] == 1
    assert [t["number"] for t in attempt["tasks"]] == [1, 2, 3, 4]
    assert attempt["tasks"][3]["problem"]["id"] in {"a", "b"}
    assert set(attempt["tasks"][3]["problem"]) == {"id", "prompt"}
    started = datetime.fromisoformat(attempt["started_at"])
    assert datetime.fromisoformat(attempt["deadline"]) - started == timedelta(seconds=600)
    for task in attempt["tasks"][:3]:
        assert set(task["question"]) <= {
            "id",
            "type",
            "prompt",
            "points",
            "options",
            "left",
            "right",
        }
    row = (
        await session.execute(
            text("SELECT seed, variant, exam_version FROM exam_attempts WHERE id = :a"),
            {"a": attempt["id"]},
        )
    ).one()
    exam = (await snapshots({(FREE_EXAM, row.exam_version)}))[(FREE_EXAM, row.exam_version)]
    drawn = scoring.draw(exam, row.seed)
    assert drawn == [{k: v for k, v in d.items() if k != "version"} for d in row.variant]
    shown = [t["question"]["id"] if t["question"] else t["problem"]["id"] for t in attempt["tasks"]]
    assert shown == [d.get("question_id") or d["problem_id"] for d in drawn]
    assert all(d["version"] == 1 for d in row.variant if "question_id" in d)


def test_different_seeds_draw_different_variants() -> None:
    exam = {
        "tasks": [
            {"number": n, "grading": "auto", "pool": [f"question:q{n}-a", f"question:q{n}-b"]}
            for n in range(1, 20)
        ]
    }
    variants = {tuple(d["question_id"] for d in scoring.draw(exam, seed)) for seed in range(50)}
    assert len(variants) == 50
    assert scoring.draw(exam, 7) == scoring.draw(exam, 7)


async def test_autosave_appends_a_hash_chain_and_repeats_write_nothing(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    answers = answers_for(attempt)
    first = await save(client, candidate, attempt["id"], answers[:2])
    assert first.status_code == 200, first.text
    assert first.json()["answers"] == {str(a["task"]): a["answer"] for a in answers[:2]}
    again = await save(client, candidate, attempt["id"], answers[:2])
    assert again.status_code == 200
    log = await events(session, attempt["id"])
    assert [(e.seq, e.task) for e in log] == [(1, 1), (2, 2)]
    changed = await save(client, candidate, attempt["id"], [{"task": 1, "answer": 41}])
    assert changed.json()["answers"]["1"] == 41
    log = await events(session, attempt["id"])
    head = scoring.GENESIS
    for event in log:
        assert event.prev_hash == head
        at = event.at.astimezone(UTC).isoformat()
        head = scoring.event_hash(head, seq=event.seq, task=event.task, answer=event.answer, at=at)
        assert event.hash == head
    assert len(log) == 3


async def test_submit_seals_a_sheet_whose_hash_verifies(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    await save(client, candidate, attempt["id"], answers_for(attempt, right=False)[:1])
    sealed = await submit(client, candidate, attempt["id"], answers_for(attempt))
    assert sealed.status_code == 200, sealed.text
    body = sealed.json()
    assert body["status"] == "sealed"
    assert body["sealed_by"] == "submit"
    assert body["result"] == {
        "version": 1,
        "primary_score": 3.0,
        "max_primary": 5,
        "test_score": 60,
        "passed": None,
        "final": False,
    }
    assert body["review"] is None  # not final yet: no keys, no per-task points
    row = (
        await session.execute(
            text("SELECT sheet, sheet_sha256 FROM exam_attempts WHERE id = :a"),
            {"a": attempt["id"]},
        )
    ).one()
    assert scoring.sha256(row.sheet) == row.sheet_sha256 == body["sheet_sha256"]
    log = await events(session, attempt["id"])
    assert row.sheet["answer_log"] == {"events": len(log), "head": log[-1].hash}
    assert [t["points"] for t in row.sheet["tasks"]] == [1.0, 1.0, 1.0, None]
    assert "key" not in str(row.sheet)
    assert "correct" not in row.sheet["tasks"][1]["shown"]
    replay = await submit(client, candidate, attempt["id"], answers_for(attempt))
    assert replay.status_code == 200
    assert replay.json() == body
    again = await submit(client, candidate, attempt["id"], [], key="submit-key-0002")
    assert again.status_code == 409
    assert again.json()["code"] == "exam-attempt-sealed"
    late = await save(client, candidate, attempt["id"], [{"task": 1, "answer": 1}])
    assert late.status_code == 409


async def test_a_sealed_attempt_cannot_change_even_for_the_app_role(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    assert (await submit(client, candidate, attempt["id"], answers_for(attempt))).status_code == 200
    for statement in (
        "UPDATE exam_attempts SET sheet_sha256 = repeat('0', 64) WHERE id = :a",
        "DELETE FROM exam_attempts WHERE id = :a",
        "UPDATE exam_answer_events SET answer = '1' WHERE attempt_id = :a",
        "DELETE FROM exam_answer_events WHERE attempt_id = :a",
        "INSERT INTO exam_answer_events (attempt_id, seq, task, answer, at, prev_hash, hash) "
        "VALUES (:a, 99, 1, '1', now(), repeat('0', 64), repeat('0', 64))",
        "UPDATE exam_results SET test_score = 100 WHERE attempt_id = :a",
    ):
        with pytest.raises(DBAPIError, match=r"sealed|append-only"):
            async with session.begin_nested():
                await session.execute(text(statement), {"a": attempt["id"]})


async def backdate(session: AsyncSession, attempt_id: str, *, seconds_past_deadline: int) -> None:
    """Move an open attempt's clock: its deadline ``seconds_past_deadline`` ago."""
    await session.execute(
        text(
            "UPDATE exam_attempts SET started_at = deadline - interval '1 hour' - "
            "make_interval(secs => :s), deadline = statement_timestamp() - make_interval(secs => :s) "
            "WHERE id = :a"
        ),
        {"a": attempt_id, "s": seconds_past_deadline},
    )


async def test_answers_in_the_grace_count_later_ones_seal_and_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    answers = answers_for(attempt)
    await backdate(session, attempt["id"], seconds_past_deadline=10)
    within = await save(client, candidate, attempt["id"], answers[:1])
    assert within.status_code == 200, within.text
    await backdate(session, attempt["id"], seconds_past_deadline=31)
    late = await save(client, candidate, attempt["id"], answers[1:])
    assert late.status_code == 409
    assert late.json()["code"] == "exam-time-up"
    read = await client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=candidate.headers)
    body = read.json()
    assert (body["status"], body["sealed_by"]) == ("sealed", "deadline")
    assert body["answers"] == {"1": answers[0]["answer"], "2": None, "3": None, "4": None}
    assert body["result"]["primary_score"] == 1.0
    late_submit = await submit(client, candidate, attempt["id"], answers)
    assert late_submit.status_code == 409
    assert late_submit.json()["code"] == "exam-attempt-sealed"


async def test_a_late_submit_seals_with_what_was_saved(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    attempt = await start(client, candidate)
    await backdate(session, attempt["id"], seconds_past_deadline=31)
    late = await submit(client, candidate, attempt["id"], answers_for(attempt))
    assert late.status_code == 409
    assert late.json()["code"] == "exam-time-up"
    sealed = (
        await session.execute(
            text("SELECT sealed_by, sheet FROM exam_attempts WHERE id = :a"), {"a": attempt["id"]}
        )
    ).one()
    assert sealed.sealed_by == "deadline"
    assert all(task["answer"] is None for task in sealed.sheet["tasks"])


async def test_the_sweeper_seals_abandoned_attempts_once(
    client: httpx.AsyncClient, session: AsyncSession, candidate: Account
) -> None:
    from syllabus.exams.service import seal_due

    attempt = await start(client, candidate)
    await save(client, candidate, attempt["id"], answers_for(attempt)[:2])
    await backdate(session, attempt["id"], seconds_past_deadline=60)
    assert await seal_due(session=session) == 1
    assert await seal_due(session=session) == 0
    row = (
        await session.execute(
            text("SELECT sealed_by, sheet, sheet_sha256 FROM exam_attempts WHERE id = :a"),
            {"a": attempt["id"]},
        )
    ).one()
    assert row.sealed_by == "deadline"
    assert scoring.sha256(row.sheet) == row.sheet_sha256
    assert [t["answer"] is not None for t in row.sheet["tasks"]] == [True, True, False, False]


async def test_concurrent_submits_seal_once(
    live_client: httpx.AsyncClient, live_loaded: Path, live_learner: Account, app: Any, mongo: Any
) -> None:
    from tests.exams.conftest import load, write_exams

    await load(write_exams(live_loaded), mongo, app.state.sessionmaker)
    attempt = await start(live_client, live_learner)
    answers = answers_for(attempt)
    responses = await asyncio.gather(
        *(
            submit(live_client, live_learner, attempt["id"], answers, f"race-key-{n:04}")
            for n in range(6)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"exam-attempt-sealed"}


async def test_refusals(
    client: httpx.AsyncClient, session: AsyncSession, exams: Path, learner: Account
) -> None:
    url = f"/api/v1/exams/{FREE_EXAM}/attempts"
    assert (await client.post(url)).status_code == 401
    not_enrolled = await client.post(url, headers=learner.headers)
    assert not_enrolled.status_code == 403
    paid = await client.post(f"/api/v1/exams/{PAID_EXAM}/attempts", headers=learner.headers)
    assert paid.status_code == 403
    unknown = await client.post("/api/v1/exams/exam:nothing/attempts", headers=learner.headers)
    assert unknown.status_code == 404
    malformed = await client.post("/api/v1/exams/quiz:x/attempts", headers=learner.headers)
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "exam_id"
    await enroll(client, learner, "course:rest-basics")
    attempt = await start(client, learner)
    again = await client.post(url, headers=learner.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "exam-attempt-open"
    assert again.json()["attempt_id"] == attempt["id"]
    bad = await save(
        client,
        learner,
        attempt["id"],
        [
            {"task": 9, "answer": 1},
            {"task": 1, "answer": "five"},
            {"task": 4, "answer": 4},
            {"task": 2, "answer": "z"},
            {"task": 3, "answer": True},
            {"task": 3, "answer": False},
        ],
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [
        "answers[0].task",
        "answers[1].answer",
        "answers[2].answer",
        "answers[3].answer",
        "answers[5].task",
    ]
    assert (await events(session, attempt["id"])) == []
    other = await client.get(f"/api/v1/exam-attempts/{uuid.uuid4()}", headers=learner.headers)
    assert other.status_code == 404
    assert (await submit(client, learner, attempt["id"], [])).status_code == 200
    second = await start(client, learner)
    assert (await submit(client, learner, second["id"], [], "submit-key-0002")).status_code == 200
    spent = await client.post(url, headers=learner.headers)
    assert spent.status_code == 409
    assert spent.json()["code"] == "exam-attempts-used"
    assert spent.json()["attempts_used"] == 2


async def test_someone_elses_attempt_is_absent(
    client: httpx.AsyncClient, candidate: Account
) -> None:
    from tests.identity.helpers import sign_up

    attempt = await start(client, candidate)
    stranger = await sign_up(client)
    await enroll(client, stranger, "course:rest-basics")
    for response in (
        await client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=stranger.headers),
        await save(client, stranger, attempt["id"], []),
        await submit(client, stranger, attempt["id"], []),
    ):
        assert response.status_code == 404


async def test_the_window_and_a_cancelled_enrollment_close_the_exam(
    client: httpx.AsyncClient, candidate: Account
) -> None:
    from syllabus.content.documents import ExamContent

    exams = ExamContent.get_pymongo_collection()
    future = datetime.now(UTC) + timedelta(days=1)
    await exams.update_one({"_id": FREE_EXAM}, {"$set": {"available_from": future}})
    early = await client.post(f"/api/v1/exams/{FREE_EXAM}/attempts", headers=candidate.headers)
    assert early.status_code == 409
    assert early.json()["code"] == "exam-not-available"
    await exams.update_one({"_id": FREE_EXAM}, {"$set": {"available_from": None}})
    attempt = await start(client, candidate)
    enrollments = await client.get("/api/v1/enrollments", headers=candidate.headers)
    enrollment = enrollments.json()["items"][0]["id"]
    cancelled = await client.post(
        f"/api/v1/enrollments/{enrollment}/cancel", headers=candidate.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    closed = await save(client, candidate, attempt["id"], [])
    assert closed.status_code == 403


async def test_my_attempts_and_the_exam_list(client: httpx.AsyncClient, candidate: Account) -> None:
    attempt = await start(client, candidate)
    mine = await client.get("/api/v1/users/me/exam-attempts", headers=candidate.headers)
    assert [a["id"] for a in mine.json()["items"]] == [attempt["id"]]
    listed = await client.get("/api/v1/exams")
    assert [e["id"] for e in listed.json()["items"]] == [FREE_EXAM, PAID_EXAM]
    one = await client.get(f"/api/v1/exams/{FREE_EXAM}")
    assert one.status_code == 200
    body = one.json()
    assert (body["max_primary"], body["passing_score"], body["scale"][-1]) == (5, 60, 100)
    assert "pool" not in one.text
    assert "problems" not in one.text
    assert "GET /books" not in one.text  # an expert answer
    assert (await client.get("/api/v1/exams", params={"course": "paid-course"})).json()["items"][0][
        "id"
    ] == PAID_EXAM
    assert (await client.get("/api/v1/exams/exam:nothing")).status_code == 404


async def test_a_sweep_with_nothing_due_runs_plain_sql_only(
    client: httpx.AsyncClient,
    session: AsyncSession,
    candidate: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweeper asks in plain SQL whether anything is due before its ORM query: a
    worker that serves only the hot reads (plain SQL as well) never configures the ORM's
    mappers for an empty sweep (about 2-3 MiB of RSS; docs/operations.md)."""
    from syllabus.exams.service import seal_due

    await start(client, candidate)  # open, its deadline ahead
    executed: list[object] = []
    execute = session.execute

    async def recording(statement: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(statement)
        return await execute(statement, *args, **kwargs)

    monkeypatch.setattr(session, "execute", recording)
    assert await seal_due(session=session) == 0
    assert [type(statement) for statement in executed] == [TextClause]


async def test_seal_due_from_cron_seals_an_abandoned_attempt(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    live_learner: Account,
    app: Any,
    mongo: Any,
    engine: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    """The learner walks away; the service (here, its process) is gone; another process,
    ``syllabus exams seal-due``, seals the attempt at its deadline from the database alone."""
    from tests.exams.conftest import load, write_exams
    from tests.test_cli import run_cli

    await load(write_exams(live_loaded), mongo, app.state.sessionmaker)
    attempt = await start(live_client, live_learner)
    saved = await save(live_client, live_learner, attempt["id"], answers_for(attempt)[:1])
    assert saved.status_code == 200
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE exam_attempts SET started_at = statement_timestamp() - interval '2 hours', "
                "deadline = statement_timestamp() - interval '1 minute' WHERE id = :a"
            ),
            {"a": attempt["id"]},
        )
    stores = {
        "SYLLABUS_POSTGRES_URL": settings.postgres_url,
        "SYLLABUS_POSTGRES_OWNER_URL": settings.postgres_owner_url,
        "SYLLABUS_MONGO_URL": settings.mongo_url,
        "SYLLABUS_MONGO_DB": settings.mongo_db,
    }
    sealed = run_cli("exams", "seal-due", cwd=tmp_path, **stores)
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.strip() == "1 exam attempts sealed"
    again = run_cli("exams", "seal-due", cwd=tmp_path, **stores)
    assert again.stdout.strip() == "0 exam attempts sealed"
    read = await live_client.get(
        f"/api/v1/exam-attempts/{attempt['id']}", headers=live_learner.headers
    )
    body = read.json()
    assert (body["status"], body["sealed_by"]) == ("sealed", "deadline")
    assert body["result"]["primary_score"] == 1.0


async def test_the_background_sweeper_seals_and_survives_a_failed_round(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    live_learner: Account,
    app: Any,
    mongo: Any,
    engine: Any,
) -> None:
    """What each API process runs (SYLLABUS_EXAM_SWEEP_SECONDS): a round that fails (here:
    a sessionmaker that cannot connect) is logged, and the next one seals."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from syllabus.exams.sweeper import sweep_forever
    from tests.exams.conftest import load, write_exams

    await load(write_exams(live_loaded), mongo, app.state.sessionmaker)
    attempt = await start(live_client, live_learner)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE exam_attempts SET started_at = statement_timestamp() - interval '2 hours', "
                "deadline = statement_timestamp() - interval '1 minute' WHERE id = :a"
            ),
            {"a": attempt["id"]},
        )
    nowhere = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    broken = asyncio.create_task(sweep_forever(async_sessionmaker(nowhere), every=0.01))
    await asyncio.sleep(0.2)
    assert not broken.done()  # failed rounds, still sweeping
    broken.cancel()
    await nowhere.dispose()
    sweeper = asyncio.create_task(sweep_forever(app.state.sessionmaker, every=0.01))
    try:
        for _ in range(300):
            await asyncio.sleep(0.05)
            read = await live_client.get(
                "/api/v1/users/me/exam-attempts", headers=live_learner.headers
            )
            if read.json()["items"][0]["status"] == "sealed":
                break
    finally:
        sweeper.cancel()
    assert read.json()["items"][0]["sealed_by"] == "deadline"


async def test_an_attempt_of_a_stopped_service_is_sealed_by_the_restarted_one(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    live_learner: Account,
    app: Any,
    mongo: Any,
    engine: Any,
    settings: Any,
) -> None:
    """The learner starts and answers, then the service goes away and the deadline
    passes; a service started afresh (a new app from the same settings: nothing carried
    in memory) seals the attempt with its background sweeper, from the database alone."""
    from syllabus.main import create_app
    from tests.exams.conftest import load, write_exams
    from tests.isolation import bind_documents

    await load(write_exams(live_loaded), mongo, app.state.sessionmaker)
    attempt = await start(live_client, live_learner)
    saved = await save(live_client, live_learner, attempt["id"], answers_for(attempt)[:1])
    assert saved.status_code == 200
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE exam_attempts SET started_at = statement_timestamp() - interval '2 hours', "
                "deadline = statement_timestamp() - interval '1 minute' WHERE id = :a"
            ),
            {"a": attempt["id"]},
        )
    query = text("SELECT sealed_by, sheet, sheet_sha256 FROM exam_attempts WHERE id = :a")
    restarted = create_app(settings.model_copy(update={"exam_sweep_seconds": 0.05}))
    try:
        async with restarted.router.lifespan_context(restarted):
            for _ in range(300):
                async with engine.connect() as connection:
                    row = (await connection.execute(query, {"a": attempt["id"]})).one()
                if row.sealed_by is not None:
                    break
                await asyncio.sleep(0.05)
    finally:  # the documents go back to the session's app (the new one closed its client)
        await bind_documents(app)
    assert row.sealed_by == "deadline"
    assert scoring.sha256(row.sheet) == row.sheet_sha256
    assert [task["answer"] is not None for task in row.sheet["tasks"]] == [
        True,
        False,
        False,
        False,
    ]
