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
    assert attempt["status"] == "open" and attempt["attempt_no"] == 1
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
    assert body["status"] == "sealed" and body["sealed_by"] == "submit"
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
    assert "key" not in str(row.sheet) and "correct" not in row.sheet["tasks"][1]["shown"]
    replay = await submit(client, candidate, attempt["id"], answers_for(attempt))
    assert replay.status_code == 200 and replay.json() == body
    again = await submit(client, candidate, attempt["id"], [], key="submit-key-0002")
    assert again.status_code == 409 and again.json()["code"] == "exam-attempt-sealed"
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
        with pytest.raises(DBAPIError, match="sealed|append-only"):
            async with session.begin_nested():
                await session.execute(text(statement), {"a": attempt["id"]})
