"""A small exam in the free course of the test folder (and one in the paid course):
three auto tasks with two questions each, one expert task with two problems."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import write_json
from tests.identity.helpers import Account, set_role, sign_up
from tests.learning.helpers import enroll

FREE_EXAM = "exam:basics-exam"
PAID_EXAM = "exam:paid-exam"
# Right answers by question id, for the auto tasks.
RIGHT: dict[str, Any] = {
    "question:exam-sum": 5,
    "question:exam-product": 6,
    "question:exam-safe": "b",
    "question:exam-idempotent": "a",
    "question:exam-true": True,
    "question:exam-false": False,
}


def numeric(qid: str, prompt: str, value: float) -> dict[str, Any]:
    return {"id": qid, "type": "numeric", "prompt": prompt, "value": value}


def exam_json(slug: str, **overrides: Any) -> dict[str, Any]:
    """Primary 0..5 (three 1-point auto tasks, one 2-point expert task); scale x20."""
    exam: dict[str, Any] = {
        "id": f"exam:{slug}",
        "title": f"Exam {slug}",
        "exam_type": "custom",
        "subject": "http",
        "year": 2026,
        "duration_seconds": 600,
        "parts": [{"number": 1, "title": "Short answers"}, {"number": 2, "title": "Extended"}],
        "tasks": [
            {
                "number": 1,
                "part": 1,
                "max_points": 1,
                "grading": "auto",
                "topic": "arithmetic",
                "pool": [
                    numeric(f"question:{slug}-sum", "2 + 3?", 5),
                    numeric(f"question:{slug}-product", "2 × 3?", 6),
                ],
            },
            {
                "number": 2,
                "part": 1,
                "max_points": 1,
                "grading": "auto",
                "pool": [
                    {
                        "id": f"question:{slug}-safe",
                        "type": "single_choice",
                        "prompt": "Which method is safe?",
                        "options": [{"id": "a", "text": "POST"}, {"id": "b", "text": "GET"}],
                        "correct": "b",
                    },
                    {
                        "id": f"question:{slug}-idempotent",
                        "type": "single_choice",
                        "prompt": "Which method is idempotent?",
                        "options": [{"id": "a", "text": "PUT"}, {"id": "b", "text": "POST"}],
                        "correct": "a",
                    },
                ],
            },
            {
                "number": 3,
                "part": 1,
                "max_points": 1,
                "grading": "auto",
                "pool": [
                    {
                        "id": f"question:{slug}-true",
                        "type": "true_false",
                        "prompt": "GET is safe.",
                        "correct": True,
                    },
                    {
                        "id": f"question:{slug}-false",
                        "type": "true_false",
                        "prompt": "POST is idempotent.",
                        "correct": False,
                    },
                ],
            },
            {
                "number": 4,
                "part": 2,
                "max_points": 2,
                "grading": "expert",
                "problems": [
                    {"id": "a", "prompt": "Design GET /books.", "answer": "GET /books?page=2"},
                    {"id": "b", "prompt": "Design DELETE /books/1.", "answer": "204"},
                ],
                "criteria": [
                    {"points": 2, "description": "Right, with reasons."},
                    {"points": 1, "description": "Right, without reasons."},
                ],
            },
        ],
        "scale": [0, 20, 40, 60, 80, 100],
        "passing_score": 60,
        "max_attempts": 2,
    }
    exam.update(overrides)
    return exam


def right_answers(slug: str) -> dict[str, Any]:
    return {key.replace("question:exam-", f"question:{slug}-"): v for key, v in RIGHT.items()}


def write_exams(folder: Path) -> Path:
    write_json(folder / "courses/rest-basics/exams/basics-exam.json", exam_json("basics-exam"))
    write_json(folder / "courses/paid-course/exams/paid-exam.json", exam_json("paid-exam"))
    return folder


async def load(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    sessions: async_sessionmaker[AsyncSession],
    **options: Any,
) -> None:
    result = await load_folder(folder, database=mongo, sessionmaker=sessions, **options)
    assert result.ok, result.problems


@pytest.fixture
async def exams(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    """The test folder with the exams, loaded."""
    await load(write_exams(folder), mongo, catalog_sessions)
    return folder


@pytest.fixture
async def candidate(client: httpx.AsyncClient, exams: Path, learner: Account) -> Account:
    """A learner enrolled in the free course."""
    await enroll(client, learner, "course:rest-basics")
    return learner


@pytest.fixture
async def teacher(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await set_role(session, account, "teacher")
    return account


async def start(
    client: httpx.AsyncClient, account: Account, exam: str = FREE_EXAM
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/exams/{exam}/attempts", headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def answers_for(
    attempt: dict[str, Any], *, right: bool = True, text: str = "my answer"
) -> list[dict[str, Any]]:
    """An answer to every task: the auto ones right (or wrong), the expert one ``text``."""
    slug = attempt["exam_id"].removeprefix("exam:")
    key = right_answers(slug)
    answers = []
    for task in attempt["tasks"]:
        if task["question"] is None:
            answers.append({"task": task["number"], "answer": text})
            continue
        value = key[task["question"]["id"]]
        if not right:
            value = (
                not value
                if isinstance(value, bool)
                else value + 1
                if isinstance(value, int)
                else ("a" if value == "b" else "b")
            )
        answers.append({"task": task["number"], "answer": value})
    return answers


async def submit(
    client: httpx.AsyncClient,
    account: Account,
    attempt_id: str,
    answers: list[dict[str, Any]],
    key: str = "submit-key-0001",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/exam-attempts/{attempt_id}/submit",
        json={"answers": answers},
        headers={**account.headers, "Idempotency-Key": key},
    )
