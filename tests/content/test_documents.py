"""Beanie documents on the real Mongo wire server: stable string ids, declared indexes,
strict nested parts."""

import hashlib

import pytest
from pydantic import BaseModel, ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from syllabus.content.blocks import CodeBlock
from syllabus.content.documents import (
    DOCUMENT_MODELS,
    CourseContent,
    LessonContent,
    Module,
    ModuleItem,
    PracticeContent,
    QuizContent,
)

HASH = hashlib.sha256(b"content").hexdigest()


def course(**fields: object) -> CourseContent:
    values: dict[str, object] = {
        "id": "course:rest-api-design",
        "slug": "rest-api-design",
        "title": "REST API Design",
        "level": "Beginner",
        "category": "web",
        "content_hash": HASH,
        "modules": [
            Module(
                id="module:basics",
                title="Basics",
                order=0,
                items=[ModuleItem(id="lesson:rest-intro", type="lesson", title="Intro", points=10)],
            )
        ],
    }
    values.update(fields)
    course: CourseContent = CourseContent.model_validate(values)
    return course


async def test_declared_indexes_exist(mongo: AsyncDatabase[dict[str, object]]) -> None:
    assert sum(len(getattr(d.Settings, "indexes", [])) for d in DOCUMENT_MODELS) >= 7
    for document in DOCUMENT_MODELS:
        collection = mongo[document.Settings.name]
        existing = await collection.index_information()
        declared = [index.document["name"] for index in getattr(document.Settings, "indexes", [])]
        assert set(declared) <= set(existing), document.__name__


async def test_string_id_is_the_mongo_id_and_round_trips(
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    lesson = LessonContent(
        id="lesson:rest-intro",
        course_id="course:rest-api-design",
        title="Что такое REST",
        content_hash=HASH,
        blocks=[CodeBlock(id="code-1-0", language="http", meta=None, text="GET /courses")],
    )
    await lesson.insert()
    raw = await mongo["lesson_content"].find_one({"_id": "lesson:rest-intro"})
    assert raw is not None
    assert raw["_id"] == "lesson:rest-intro"
    assert "id" not in raw
    loaded = await LessonContent.get("lesson:rest-intro")
    assert loaded is not None
    assert loaded.title == "Что такое REST"
    assert isinstance(loaded.blocks[0], CodeBlock)
    assert loaded.blocks[0].language == "http"


@pytest.mark.parametrize(
    ("document", "bad_id"),
    [
        (LessonContent, "quiz:rest-intro"),
        (LessonContent, "lesson:Rest Intro"),
        (LessonContent, "lesson:"),
        (QuizContent, "quiz:rest--basics"),
        (PracticeContent, "practice:1/2"),
    ],
)
def test_ids_are_validated_by_prefix_and_slug(document: type[BaseModel], bad_id: str) -> None:
    with pytest.raises(ValidationError) as caught:
        document.model_validate(
            {"id": bad_id, "title": "t", "course_id": "course:x", "content_hash": HASH}
        )
    assert any(error["loc"] == ("id",) for error in caught.value.errors())


async def test_course_slug_is_unique(mongo: AsyncDatabase[dict[str, object]]) -> None:
    await course().insert()
    with pytest.raises(DuplicateKeyError):
        await course(id="course:rest-api-design-2").insert()


def test_nested_parts_reject_unknown_keys() -> None:
    with pytest.raises(ValidationError) as caught:
        Module.model_validate(
            {"id": "module:m", "title": "M", "order": 0, "items": [], "colour": "red"}
        )
    assert caught.value.errors()[0]["loc"] == ("colour",)


def test_course_points_and_completion_reference_content_ids() -> None:
    with pytest.raises(ValidationError) as caught:
        course(completion={"required_lessons": ["quiz:not-a-lesson"]})
    assert caught.value.errors()[0]["loc"][:2] == ("completion", "required_lessons")
