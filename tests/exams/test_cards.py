"""Course cards carry exam_type, subject and grade from course.json; the catalog filters
on them."""

import json
from pathlib import Path

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.content.folder import write_json
from tests.exams.conftest import load

COURSE = "courses/paid-course/course.json"


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_cards_and_filters(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    course = json.loads((folder / COURSE).read_text())
    write_json(folder / COURSE, {**course, "exam_type": "ЕГЭ", "subject": "math", "grade": 11})
    await load(folder, mongo, catalog_sessions)
    card = (await client.get("/api/v1/courses/paid-course")).json()
    assert (card["exam_type"], card["subject"], card["grade"]) == ("ЕГЭ", "math", 11)
    free = (await client.get("/api/v1/courses/rest-basics")).json()
    assert (free["exam_type"], free["subject"], free["grade"]) == (None, None, None)
    courses = "/api/v1/courses"
    wanted: dict[str, str | int] = {"exam_type": "ЕГЭ", "subject": "math", "grade": 11}
    assert ids(await client.get(courses, params=wanted)) == ["course:paid-course"]
    assert ids(await client.get(courses, params={"exam_type": "ОГЭ"})) == []
    assert ids(await client.get(courses, params={"grade": 10})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"exam_type": "SAT"}, "exam_type"),
        ({"grade": 12}, "grade"),
        ({"subject": "Math"}, "subject"),
    ],
)
async def test_bad_filters_are_refused(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/api/v1/courses", params=params)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_bad_card_fields_are_refused_by_the_loader(
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    course = json.loads((folder / COURSE).read_text())
    write_json(folder / COURSE, {**course, "exam_type": "SAT", "grade": 0})
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert sorted(p.field for p in result.problems) == ["exam_type", "grade"]
