"""Fixtures of the homework tests: the competency folder loaded (the practice names
``rest.resources``), a student enrolled in the free course, a teacher, and the calls."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.config import Settings
from syllabus.homework.files import BUCKET
from syllabus.main import create_app
from tests.competencies.helpers import FREE, load, name_competencies
from tests.content.folder import write_json
from tests.identity.helpers import Account, set_role, sign_up
from tests.isolation import serving
from tests.learning.helpers import enroll

PRACTICE = "practice:rest-basics-task"
PAID_PRACTICE = "practice:paid-course-task"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def with_competencies(folder: Path) -> Path:
    name_competencies(folder)
    for slug in ("rest-basics", "paid-course"):
        path = folder / "courses" / slug / "practices" / "task.json"
        practice = json.loads(path.read_text(encoding="utf-8"))
        practice["competencies"] = ["rest.resources"]
        write_json(path, practice)
    return folder


@pytest.fixture
async def practiced(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    await load(with_competencies(folder), mongo, catalog_sessions)
    return folder


@pytest.fixture
async def student(client: httpx.AsyncClient, practiced: Path) -> Account:
    account = await sign_up(client)
    await enroll(client, account, FREE)
    return account


@pytest.fixture
async def teacher(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await set_role(session, account, "teacher")
    return account


async def submit(
    client: httpx.AsyncClient,
    account: Account,
    *,
    practice: str = PRACTICE,
    text: str = "",
    links: list[str] | None = None,
    files: list[tuple[str, bytes, str]] | None = None,
    draft: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data: dict[str, Any] = {"text": text, "draft": "true" if draft else "false"}
    if links:
        data["links"] = links
    return await client.post(
        f"/api/v1/practices/{practice}/submissions",
        data=data,
        files=[("files", file) for file in files or []],
        headers={**account.headers, **(headers or {})},
    )


async def stored_files(mongo: AsyncDatabase[dict[str, Any]], account: Account) -> int:
    """GridFS files uploaded for this learner (by the metadata each upload carries)."""
    return await mongo[f"{BUCKET}.files"].count_documents({"metadata.user_id": account.id})


def field_of(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    return [e["field"] for e in problem["errors"]] if "errors" in problem else [problem["field"]]


@pytest.fixture
async def small_limits(
    app: FastAPI, settings: Settings, session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """The app built with 1 KiB files, at most 2 of them, and 1 KiB of other body (the
    limits are read when the app is built), on the session app's stores."""
    small = create_app(
        settings.model_copy(
            update={
                "submission_max_file_bytes": 1024,
                "submission_max_files": 2,
                "max_body_bytes": 1024,
            }
        )
    )
    small.state.mongo_database = app.state.mongo_database
    async with serving(small, session) as http:
        yield http
