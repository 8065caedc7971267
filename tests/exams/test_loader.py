"""Exam files are validated like every other content file: every problem reported at
once, with file, line and field; nothing is written until the folder is clean."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import write_json
from tests.exams.conftest import FREE_EXAM, exam_json, load

EXAM_FILE = "courses/rest-basics/exams/basics-exam.json"


def broken(exam: dict[str, Any]) -> dict[str, Any]:
    """One mistake of each kind the exam format refuses."""
    tasks = exam["tasks"]
    tasks[0]["pool"][0] = "question:nowhere"
    tasks[1]["problems"] = [{"id": "a", "prompt": "p", "answer": "a"}]
    tasks[3]["criteria"][0]["points"] = 3
    return exam


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda e: e.update(id="exam:other-name"),
            "id",
            "must be exam:basics-exam (the file's name)",
        ),
        (
            lambda e: e["tasks"][3].update(pool=["question:bank-order"]),
            "tasks[3].pool",
            "an expert-graded task draws from problems, not a pool",
        ),
        (
            lambda e: e["tasks"][0].update(pool=[]),
            "tasks[0].pool",
            "an auto-graded task needs at least one question in its pool",
        ),
        (
            lambda e: e["tasks"][0].update(criteria=[{"points": 1, "description": "x"}]),
            "tasks[0].criteria",
            "only expert-graded tasks have criteria",
        ),
        (
            lambda e: e["tasks"][3]["criteria"][0].update(points=3),
            "tasks[3].criteria",
            "the highest criterion must give max_points (2)",
        ),
        (
            lambda e: e.update(scale=[0, 50, 100]),
            "scale",
            "must give the test score of every primary score 0..5: 6 numbers, not 3",
        ),
        (
            lambda e: e.update(scale=[0, 20, 10, 60, 80, 100]),
            "scale",
            "must not decrease (primary 2 scores less than 1)",
        ),
        (
            lambda e: e.update(passing_score=101),
            "passing_score",
            "is above the highest test score (100)",
        ),
        (
            lambda e: e["tasks"][1].update(number=7),
            "tasks",
            "tasks must be numbered 1, 2, ... in order (got [1, 7, 3, 4])",
        ),
        (lambda e: e["tasks"][1].update(part=3), "tasks", "task 2: part 3 is not one of [1, 2]"),
        (
            lambda e: e["tasks"][0]["pool"].__setitem__(0, "question:nowhere"),
            "tasks[0].pool[0]",
            "unknown question question:nowhere",
        ),
        (
            lambda e: e.update(
                available_from="2026-02-01T00:00:00Z", available_until="2026-01-01T00:00:00Z"
            ),
            "available_until",
            "must be after available_from",
        ),
        (
            lambda e: e.update(exam_type="SAT"),
            "exam_type",
            "Input should be 'ЕГЭ', 'ОГЭ' or 'custom'",
        ),
        (
            lambda e: e.update(grading={"double_check": True, "threshold": 0}),
            "grading.threshold",
            "Input should be greater than or equal to 1",
        ),
        (
            lambda e: e["tasks"][0]["pool"].__setitem__(0, {"bank": "nowhere"}),
            "tasks[0].pool[0].bank",
            "unknown question bank nowhere",
        ),
        (
            lambda e: e["tasks"][0]["pool"].__setitem__(0, {"bank": "bank", "skills": ["x"]}),
            "tasks[0].pool[0]",
            "no question of bank bank has the skills x",
        ),
        (
            lambda e: e["tasks"][0]["pool"].__setitem__(0, {"bank": "bank", "tags": ["x"]}),
            "tasks[0].pool[0].tags",
            "unknown key",
        ),
        (
            lambda e: e.update(adaptive={"strategy": "harder"}),
            "adaptive.strategy",
            "Input should be 'weak_competencies'",
        ),
        (
            lambda e: e.update(adaptive={"below": 0}),
            "adaptive.below",
            "Input should be greater than 0",
        ),
        (
            lambda e: e.update(grading={"graders": 2}),
            "grading.graders",
            "unknown key",
        ),
        (
            lambda e: e["tasks"][0].update(competencies=["http"]),
            "tasks[0].competencies",
            "an auto-graded task's questions name its competencies",
        ),
        (
            lambda e: e["tasks"][3].update(competencies=["nowhere"]),
            "tasks[3].competencies[0]",
            "unknown competency 'nowhere'",
        ),
    ],
)
async def test_a_bad_exam_file_is_refused_with_its_problem(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    change: Any,
    field: str,
    message: str,
) -> None:
    exam = exam_json("basics-exam")
    change(exam)
    write_json(folder / EXAM_FILE, exam)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert [(p.file, p.field, p.message) for p in result.problems] == [(EXAM_FILE, field, message)]
    assert result.problems[0].line > 1 or field == "id"
    assert await mongo["exam_content"].count_documents({}) == 0


async def test_every_problem_of_a_file_is_reported_at_once(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    write_json(folder / EXAM_FILE, broken(exam_json("basics-exam")))
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert sorted(p.field for p in result.problems) == ["tasks[1].problems", "tasks[3].criteria"]
    write_json(folder / EXAM_FILE, {"id": "exam:basics-exam"})
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert {p.message for p in result.problems} == {"required"}


async def test_exams_are_versioned_and_pruned_like_other_content(
    client: httpx.AsyncClient,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    stored = await mongo["exam_content"].find_one({"_id": FREE_EXAM})
    assert stored is not None
    assert (stored["version"], stored["course_id"]) == (1, "course:rest-basics")
    changed = exam_json("basics-exam", title="Renamed")
    write_json(exams / EXAM_FILE, changed)
    await load(exams, mongo, catalog_sessions)
    assert (await client.get(f"/api/v1/exams/{FREE_EXAM}")).json()["version"] == 2
    (exams / EXAM_FILE).unlink()
    await load(exams, mongo, catalog_sessions, prune=True)
    assert (await client.get(f"/api/v1/exams/{FREE_EXAM}")).status_code == 404
    stored = await mongo["exam_content"].find_one({"_id": FREE_EXAM})
    assert stored is not None
    assert stored["status"] == "archived"


async def test_exams_record_their_source_and_only_their_source_prunes_them(
    tmp_path: Path,
    exams: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """DECISIONS 11: an exam carries the source that loaded it; another folder's prune
    leaves it alone; its own folder's prune archives it once its file is gone; another
    source may not load the same exam id."""
    from tests.content.folder import make_author_folder

    stored = await mongo["exam_content"].find_one({"_id": FREE_EXAM})
    assert stored is not None
    assert stored["source_id"] == "test-content"
    other = make_author_folder(tmp_path / "author", source="author-folder", slug="author-course")
    write_json(
        other / "courses/author-course/exams/author-exam.json",
        exam_json("author-exam"),
    )
    await load(other, mongo, catalog_sessions, prune=True)
    assert (await mongo["exam_content"].find_one({"_id": FREE_EXAM}) or {})["status"] != "archived"
    authors = await mongo["exam_content"].find_one({"_id": "exam:author-exam"})
    assert authors is not None
    assert authors["source_id"] == "author-folder"
    write_json(other / "courses/author-course/exams/basics-exam.json", exam_json("basics-exam"))
    refused = await load_folder(other, database=mongo, sessionmaker=catalog_sessions)
    assert any(
        "exam:basics-exam belongs to source 'test-content'" in p.message for p in refused.problems
    )
    (other / "courses/author-course/exams/basics-exam.json").unlink()
    (exams / EXAM_FILE).unlink()
    await load(exams, mongo, catalog_sessions, prune=True)
    assert (await mongo["exam_content"].find_one({"_id": FREE_EXAM}) or {})["status"] == "archived"
    assert (await mongo["exam_content"].find_one({"_id": "exam:author-exam"}) or {})[
        "status"
    ] == "published"


async def test_a_pool_can_name_a_bank_and_tags(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """``{"bank": …, "skills": […]}`` expands at load time to every question of that bank
    with each of those skills, in bank order, without repeating an id listed too."""
    bank = json.loads((folder / "questions/bank.json").read_text(encoding="utf-8"))
    for question, skills in zip(bank, (["http", "methods"], ["http"], ["codes"]), strict=True):
        question["skills"] = skills
    write_json(folder / "questions/bank.json", bank)
    exam = exam_json("basics-exam")
    exam["tasks"][0]["pool"] = ["question:bank-order", {"bank": "bank", "skills": ["http"]}]
    exam["tasks"][1]["pool"] = [{"bank": "bank"}]
    write_json(folder / EXAM_FILE, exam)
    await load(folder, mongo, catalog_sessions)
    stored = await mongo["exam_content"].find_one({"_id": FREE_EXAM})
    assert stored is not None
    tasks: list[dict[str, Any]] = stored["tasks"]  # type: ignore[assignment]
    assert [task["pool"] for task in tasks[:2]] == [
        ["question:bank-order", "question:bank-safe-method"],
        ["question:bank-safe-method", "question:bank-order", "question:bank-match"],
    ]
