"""A test folder whose quiz questions and a lesson name competencies, and the calls the
competency tests make."""

import json
from pathlib import Path
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import FRAMEWORK, write_json
from tests.identity.helpers import Account

FREE = "course:rest-basics"
QUIZ = "quiz:rest-basics-check"
NAMES = {
    "question:bank-safe-method": ["http.methods"],
    "question:legacy-1": ["http.status"],
    "question:rest-basics-nouns": ["rest.resources"],
}
RIGHT: list[dict[str, Any]] = [
    {"question_id": "question:bank-safe-method", "answer": "b"},
    {"question_id": "question:legacy-1", "answer": 429},
    {"question_id": "question:rest-basics-nouns", "answer": True},
]
WRONG_METHOD: list[dict[str, Any]] = [
    {"question_id": "question:bank-safe-method", "answer": "a"},
    *RIGHT[1:],
]


def name_competencies(root: Path, *, review: str = "after_submit") -> None:
    """competencies.json, and the quiz's questions and a lesson naming its codes."""
    write_json(root / "competencies.json", FRAMEWORK)
    bank = root / "questions" / "bank.json"
    questions = json.loads(bank.read_text(encoding="utf-8"))
    for question in questions:
        question["competencies"] = NAMES.get(question["id"], [])
    write_json(bank, questions)
    legacy = root / "questions" / "legacy.json"
    old = json.loads(legacy.read_text(encoding="utf-8"))
    write_json(root / "questions" / "legacy.json", old[1:])
    write_json(
        root / "questions" / "status.json",
        [
            {
                "id": "question:legacy-1",
                "type": "numeric",
                "prompt": "Status code for Too Many Requests?",
                "value": 429,
                "competencies": ["http.status"],
            }
        ],
    )
    for slug in ("rest-basics", "paid-course", "draft-course"):
        quiz_path = root / "courses" / slug / "quizzes" / "check.json"
        quiz = json.loads(quiz_path.read_text(encoding="utf-8"))
        quiz["questions"][2]["competencies"] = ["rest.resources"]
        quiz["review"] = review
        quiz["max_attempts"] = None
        write_json(quiz_path, quiz)
    lesson = root / "courses" / "rest-basics" / "lessons" / "02-more.mdx"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace(
            "preview: false", "preview: false\ncompetencies: [http.methods, http.status]"
        ),
        encoding="utf-8",
    )


async def load(
    root: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await load_folder(root, database=mongo, sessionmaker=sessions)
    assert result.ok, result.problems


async def take_quiz(
    client: httpx.AsyncClient, account: Account, answers: list[dict[str, Any]], key: str
) -> dict[str, Any]:
    started = await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=account.headers)
    assert started.status_code == 201, started.text
    submitted = await client.post(
        f"/api/v1/quiz-attempts/{started.json()['id']}/submit",
        json={"answers": answers},
        headers={**account.headers, "Idempotency-Key": f"competencies-{key}"},
    )
    assert submitted.status_code == 200, submitted.text
    result: dict[str, Any] = submitted.json()
    return result


async def mine(client: httpx.AsyncClient, account: Account, what: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/users/me/{what}", headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
