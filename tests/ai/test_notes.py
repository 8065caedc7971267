"""AI notes: the offline generator over the loaded folder, reading a note with the
lesson's own access rules, stale notes after a content change, and concept search in
English and Russian word forms across the lessons the caller may read."""

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text

from syllabus.ai.notes import generate_notes
from syllabus.content.loader.run import load_folder
from tests.ai.fixtures import Configure
from tests.ai.model_server import ModelServer
from tests.identity.helpers import Account, sign_up
from tests.openapi import openapi_document

API = "/api/v1"
RUSSIAN = """---
id: lesson:rest-basics-extra-0
title: Индексы
objectives:
  - Понимать, зачем нужен индекс
key_concepts: [индекс]
---

# Индексы

Индекс — это структура данных, которая ускоряет поиск строк.

## Составные индексы

**Составной индекс** строится по нескольким столбцам сразу.
"""


def all_ids(blocks: list[dict[str, Any]]) -> list[str]:
    """Every block id of a lesson, nested blocks included."""
    ids = []
    for block in blocks:
        ids.append(block["id"])
        ids += all_ids(block.get("children", []))
        for item in block.get("items", []):
            ids += all_ids(item["children"])
    return ids


async def generate(app: FastAPI, **options: object) -> tuple[int, int]:
    report = await generate_notes(
        sessionmaker=app.state.sessionmaker,
        provider=None,
        generator="offline",
        **options,  # type: ignore[arg-type]
    )
    assert not report.failed
    return report.planned, report.made


async def load(app: FastAPI, folder: Path, mongo: AsyncDatabase[dict[str, object]]) -> None:
    assert (await load_folder(folder, database=mongo, sessionmaker=app.state.sessionmaker)).ok


async def test_offline_notes_cite_the_lesson_and_go_stale_when_it_changes(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    planned, made = await generate(app)
    assert planned == made > 0
    assert await generate(app) == (0, 0)  # nothing missing: a rerun resumes, it does not redo
    lesson = (
        await live_client.get(
            f"{API}/lessons/lesson:rest-basics-more", headers=live_learner.headers
        )
    ).json()
    block_ids = set(all_ids(lesson["blocks"]))
    note = await live_client.get(
        f"{API}/lessons/lesson:rest-basics-more/ai-notes", headers=live_learner.headers
    )
    assert note.status_code == 200, note.text
    body = note.json()
    assert body["generator"] == "offline"
    assert body["model"] is None
    assert body["stale"] is False
    assert body["lesson_version"] == lesson["version"]
    assert body["summary_points"][0]["text"] == "Explain the idea"  # the objective first
    assert {c["term"] for c in body["key_concepts"]} >= {"resource"}
    cited = {i for p in body["summary_points"] + body["key_concepts"] for i in p["block_ids"]}
    assert cited
    assert cited <= block_ids
    # The author edits the lesson: the note is still shown, marked stale, until regenerated.
    path = live_loaded / "courses" / "rest-basics" / "lessons" / "02-more.mdx"
    path.write_text(
        path.read_text(encoding="utf-8") + "\nA **representation** is what a client receives.\n",
        encoding="utf-8",
    )
    await load(app, live_loaded, mongo)
    stale = (
        await live_client.get(
            f"{API}/lessons/lesson:rest-basics-more/ai-notes", headers=live_learner.headers
        )
    ).json()
    assert stale["stale"] is True
    assert stale["lesson_version"] == lesson["version"]
    assert await generate(app, stale_only=True) == (1, 1)
    fresh = (
        await live_client.get(
            f"{API}/lessons/lesson:rest-basics-more/ai-notes", headers=live_learner.headers
        )
    ).json()
    assert fresh["stale"] is False
    assert fresh["lesson_version"] == lesson["version"] + 1
    assert "representation" in {c["term"] for c in fresh["key_concepts"]}


async def test_a_note_has_exactly_the_access_of_its_lesson(
    live_client: httpx.AsyncClient, app: FastAPI, live_loaded: Path, live_learner: Account
) -> None:
    await generate(app)
    cases = [
        ("lesson:rest-basics-more", None, 200),  # free course: anyone
        ("lesson:paid-course-intro", None, 200),  # a preview lesson of a paid course
        ("lesson:paid-course-more", None, 401),
        ("lesson:paid-course-more", live_learner, 403),
        ("lesson:draft-course-more", live_learner, 404),  # hidden reads like absent
        ("lesson:no-such-lesson", live_learner, 404),
    ]
    for lesson, who, code in cases:
        response = await live_client.get(
            f"{API}/lessons/{lesson}/ai-notes", headers=who.headers if who else {}
        )
        assert response.status_code == code, (lesson, response.text)
        if code != 200:
            assert response.headers["content-type"] == "application/problem+json"
    assert (await live_client.get(f"{API}/lessons/not-a-lesson/ai-notes")).status_code == 422


async def test_a_lesson_without_a_note_says_so(
    live_client: httpx.AsyncClient, live_loaded: Path
) -> None:
    response = await live_client.get(f"{API}/lessons/lesson:rest-basics-more/ai-notes")
    assert response.status_code == 404
    assert response.json()["code"] == "ai-note-missing"


async def test_concept_search_finds_word_forms_in_both_languages_within_access(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    live_loaded: Path,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    path = live_loaded / "courses" / "rest-basics" / "lessons" / "x000.mdx"
    folder = live_loaded
    course = (folder / "courses" / "rest-basics" / "course.json").read_text(encoding="utf-8")
    (folder / "courses" / "rest-basics" / "course.json").write_text(
        course.replace(
            '"lesson:rest-basics-more"', '"lesson:rest-basics-more", "lesson:rest-basics-extra-0"'
        ),
        encoding="utf-8",
    )
    path.write_text(RUSSIAN, encoding="utf-8")
    await load(app, folder, mongo)
    await generate(app)

    async def found(concept: str, who: Account | None = None) -> list[str]:
        response = await live_client.get(
            f"{API}/ai-notes", params={"concept": concept}, headers=who.headers if who else {}
        )
        assert response.status_code == 200, response.text
        return [hit["lesson_id"] for hit in response.json()["items"]]

    assert await found("индексов") == ["lesson:rest-basics-extra-0"]  # genitive plural finds индекс
    assert await found("составные индексы") == ["lesson:rest-basics-extra-0"]
    resources = await found("resources")  # English plural finds "resource"
    assert "lesson:rest-basics-more" in resources
    assert "lesson:rest-basics-intro" in resources
    assert "lesson:paid-course-intro" in resources  # a preview lesson
    assert "lesson:paid-course-more" not in resources  # paid, not enrolled
    assert not any(lesson.startswith("lesson:draft-course") for lesson in resources)
    buyer = await sign_up(live_client)
    await enroll_paid(live_client, app, buyer)
    assert "lesson:paid-course-more" in await found("resources", buyer)
    assert await found("thermodynamics") == []
    # Keyset pages walk every hit once.
    first = await live_client.get(f"{API}/ai-notes", params={"concept": "resource", "limit": 2})
    second = await live_client.get(
        f"{API}/ai-notes",
        params={"concept": "resource", "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    walked = [h["lesson_id"] for h in first.json()["items"] + second.json()["items"]]
    assert walked == sorted(resources)  # the three an anonymous reader may open, once each
    assert len(first.json()["items"]) == 2
    assert second.json()["next_cursor"] is None
    for bad in ("", "x" * 101, "!!!"):
        response = await live_client.get(f"{API}/ai-notes", params={"concept": bad})
        assert response.status_code == 422, bad
        assert "concept" in response.text
    assert (await live_client.get(f"{API}/ai-notes")).status_code == 422


@pytest.mark.parametrize("concept", ["индексы", "ç\x80Æ\x83", "_", "«»", "!!!", "\u3000", "\x01"])
async def test_a_concept_is_refused_exactly_when_the_openapi_says(
    live_client: httpx.AsyncClient, concept: str
) -> None:
    """The fuzzer sent ``ç\\x80Æ\\x83``: refused by the OpenAPI's ``\\w`` read as ECMA-262
    (ASCII only, so its own example ``индексы`` too), searched by the server."""
    operation = openapi_document()["paths"]["/api/v1/ai-notes"]["get"]
    schema = next(p["schema"] for p in operation["parameters"] if p["name"] == "concept")
    response = await live_client.get(f"{API}/ai-notes", params={"concept": concept})
    if jsonschema_rs.validator_for(schema).is_valid(concept):
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["concept"]


async def enroll_paid(client: httpx.AsyncClient, app: FastAPI, account: Account) -> None:
    """An admin enrolls the learner in the paid course (how paid access is granted here)."""
    admin = await sign_up(client)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": admin.id}
        )
    response = await client.post(
        f"{API}/admin/enrollments",
        json={"user_id": account.id, "course_id": "course:paid-course"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


async def test_notes_written_by_the_model_keep_only_real_citations(
    app: FastAPI,
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    tutor: Configure,
    model_server: ModelServer,
) -> None:
    lesson = (await live_client.get(f"{API}/lessons/lesson:rest-basics-more")).json()
    block = lesson["blocks"][1]["id"]
    model_server.reply = (
        f'Here you go: {{"summary_points": [{{"text": "Nouns name resources.", "block_ids": ["{block}", "nope"]}}], '
        f'"key_concepts": [{{"term": "resource", "definition": "A thing with a URL.", "block_ids": ["{block}"]}}]}}'
    )
    provider = tutor()
    report = await generate_notes(
        sessionmaker=app.state.sessionmaker,
        provider=provider,
        generator="model",
        course="course:rest-basics",
    )
    assert report.made == report.planned > 0
    assert not report.failed
    note = (await live_client.get(f"{API}/lessons/lesson:rest-basics-more/ai-notes")).json()
    assert note["generator"] == "model"
    assert note["model"] == "test-model"
    assert note["summary_points"] == [{"text": "Nouns name resources.", "block_ids": [block]}]
    # What the model was sent: the lesson's blocks as data, nothing of the quiz.
    assert "Methods are the verbs." not in model_server.sent_text()
    model_server.reply = "not json at all"
    path = live_loaded / "courses" / "rest-basics" / "lessons" / "02-more.mdx"
    path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    assert (
        await load_folder(
            live_loaded, database=app.state.mongo_database, sessionmaker=app.state.sessionmaker
        )
    ).ok
    failed = await generate_notes(
        sessionmaker=app.state.sessionmaker, provider=provider, generator="model", stale_only=True
    )
    assert list(failed.failed) == ["lesson:rest-basics-more"]
    assert failed.made == 0
    kept = (await live_client.get(f"{API}/lessons/lesson:rest-basics-more/ai-notes")).json()
    assert kept["stale"] is True  # the old note stays, marked, until a run succeeds
