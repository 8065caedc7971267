"""Adaptive variants (docs/exams.md, "Adaptive variants"): an exam with
``adaptive.strategy = weak_competencies`` draws each auto task among the pool questions
that name a competency the learner is weak in, records why, and stays reproducible from
the recorded seed."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.service import snapshots
from syllabus.exams import scoring
from tests.content.folder import add_framework, write_json
from tests.exams.conftest import FREE_EXAM, exam_json, load, start
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

# Task 1: "sum" tests status codes, "product" nothing; task 2: both test methods.
NAMED = {
    "question:basics-exam-sum": ["http.status"],
    "question:basics-exam-safe": ["http.methods"],
    "question:basics-exam-idempotent": ["http.methods"],
}


def adaptive_exam(**adaptive: Any) -> dict[str, Any]:
    exam = exam_json("basics-exam", adaptive={"strategy": "weak_competencies", **adaptive})
    for task in exam["tasks"][:2]:
        for question in task["pool"]:
            question["competencies"] = NAMED.get(question["id"], [])
    return exam


@pytest.fixture
async def adaptive(
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    add_framework(exams)
    write_json(exams / "courses/rest-basics/exams/basics-exam.json", adaptive_exam())
    await load(exams, mongo, catalog_sessions)
    return exams


async def set_mastery(session: AsyncSession, account: Account, **levels: float) -> None:
    for code, mastery in levels.items():
        await session.execute(
            text(
                "INSERT INTO competency_mastery (user_id, competency_id, mastery, observations) "
                "SELECT :u, id, :m, 1 FROM competencies WHERE code = :c"
            ),
            {"u": account.id, "c": code.replace("_", "."), "m": mastery},
        )


async def recorded(session: AsyncSession, attempt_id: str) -> Any:
    return (
        await session.execute(
            text("SELECT seed, variant, exam_version FROM exam_attempts WHERE id = :a"),
            {"a": attempt_id},
        )
    ).one()


def test_the_draw_narrows_to_weak_items_records_why_and_replays() -> None:
    exam = {
        "tasks": [
            {"number": 1, "grading": "auto", "pool": ["question:a", "question:b", "question:c"]},
            {"number": 2, "grading": "auto", "pool": ["question:d", "question:e"]},
            {"number": 3, "grading": "expert", "problems": [{"id": "p"}, {"id": "q"}]},
        ]
    }
    weak = scoring.weak_items(
        {"question:a": ["x"], "question:b": ["y", "z"], "question:c": [], "question:d": ["y"]},
        {"x": 0.3, "y": 0.9, "z": 0.5},
        below=0.75,
    )
    assert weak == {
        "question:a": {"x": 0.3},
        "question:b": {"z": 0.5},
        "question:c": {},
        "question:d": {},
    }
    drawn = {seed: scoring.draw(exam, seed, weak=weak) for seed in range(40)}
    assert {v[0]["question_id"] for v in drawn.values()} == {"question:a", "question:b"}
    assert {v[1]["question_id"] for v in drawn.values()} == {"question:d", "question:e"}
    for seed, variant in drawn.items():
        first, second, third = variant
        assert first["why"] == {
            "rule": "weak_competency",
            "weak": weak[first["question_id"]],
            "among": ["question:a", "question:b"],
        }
        assert second["why"] == third["why"] == {"rule": "uniform"}
        assert scoring.draw(exam, seed, weak=weak) == variant  # deterministic
        assert scoring.replay(exam, seed, variant) == [
            first["question_id"],
            second["question_id"],
            third["problem_id"],
        ]
    # Not adaptive: no reason recorded, the draw of before (variants already recorded
    # stay reproducible), and replay agrees with it too.
    plain = scoring.draw(exam, 5)
    assert all("why" not in entry for entry in plain)
    assert scoring.replay(exam, 5, plain) == [
        plain[0]["question_id"],
        plain[1]["question_id"],
        plain[2]["problem_id"],
    ]


async def test_a_weak_learner_gets_items_on_their_weak_competency(
    client: httpx.AsyncClient, session: AsyncSession, adaptive: Path
) -> None:
    outline = (await client.get(f"/api/v1/exams/{FREE_EXAM}")).json()
    assert outline["adaptive"] == {"strategy": "weak_competencies", "below": 0.75}
    weak_learner, new_learner = await sign_up(client), await sign_up(client)
    for account in (weak_learner, new_learner):
        await enroll(client, account, "course:rest-basics")
    await set_mastery(session, weak_learner, http_status=0.3, http_methods=0.9)
    attempt = await start(client, weak_learner)
    assert attempt["tasks"][0]["question"]["id"] == "question:basics-exam-sum"
    row = await recorded(session, attempt["id"])
    assert [entry["why"] for entry in row.variant] == [
        {
            "rule": "weak_competency",
            "weak": {"http.status": 0.3},
            "among": ["question:basics-exam-sum"],
        },
        {"rule": "uniform"},
        {"rule": "uniform"},
        {"rule": "uniform"},
    ]
    exam = (await snapshots({(FREE_EXAM, row.exam_version)}))[(FREE_EXAM, row.exam_version)]
    weak = scoring.weak_items(NAMED, {"http.status": 0.3, "http.methods": 0.9}, below=0.75)
    assert scoring.draw(exam, row.seed, weak=weak) == [
        {k: v for k, v in entry.items() if k != "version"} for entry in row.variant
    ]
    assert scoring.replay(exam, row.seed, row.variant) == [
        entry.get("question_id") or entry["problem_id"] for entry in row.variant
    ]
    # No mastery yet: nothing is known to be weak, every task draws from its whole pool.
    fresh = await recorded(session, (await start(client, new_learner))["id"])
    assert [entry["why"] for entry in fresh.variant] == [{"rule": "uniform"}] * 4


async def test_the_threshold_is_the_exams(
    client: httpx.AsyncClient,
    session: AsyncSession,
    adaptive: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    write_json(adaptive / "courses/rest-basics/exams/basics-exam.json", adaptive_exam(below=0.95))
    await load(adaptive, mongo, catalog_sessions)
    learner = await sign_up(client)
    await enroll(client, learner, "course:rest-basics")
    await set_mastery(session, learner, http_methods=0.9)
    row = await recorded(session, (await start(client, learner))["id"])
    assert row.variant[0]["why"] == {"rule": "uniform"}
    assert row.variant[1]["why"]["rule"] == "weak_competency"
    assert row.variant[1]["why"]["weak"] == {"http.methods": 0.9}
    assert row.variant[1]["why"]["among"] == [
        "question:basics-exam-safe",
        "question:basics-exam-idempotent",
    ]
