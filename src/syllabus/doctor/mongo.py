"""The doctor's MongoDB side: one read of every content collection and of the version
history, kept as small summaries (a lesson's body is validated, hashed and dropped).
Read only: the doctor never writes authored content."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from syllabus.content.documents import (
    CONTENT_MODELS,
    ContentVersion,
    CourseContent,
    QuizContent,
)
from syllabus.content.loader.load import MongoDatabase, mongo_fingerprints
from syllabus.content.loader.stored import content_hash

ITEM_COLLECTIONS = frozenset({"lesson_content", "quiz_content", "practice_content"})


@dataclass(frozen=True)
class DocumentSummary:
    """What the checks need of one content document, valid or not."""

    id: str
    collection: str
    version: int
    content_hash: str
    status: str
    course_id: str | None
    rehash: str | None
    """The hash of its content as stored now (None when it does not validate)."""
    problem: str | None = None
    """Why its schema refuses it."""

    @property
    def is_item(self) -> bool:
        return self.collection in ITEM_COLLECTIONS


@dataclass
class Content:
    documents: dict[str, DocumentSummary] = field(default_factory=dict)
    courses: dict[str, CourseContent] = field(default_factory=dict)
    quizzes: dict[str, QuizContent] = field(default_factory=dict)
    versions: dict[tuple[str, int], str] = field(default_factory=dict)
    """Every snapshot: (content id, version) → its content hash."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """Each source's last load (``marker_key`` → fingerprint)."""


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    return f"{where}: {first['msg']}"


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


async def read_content(database: MongoDatabase) -> Content:
    """Every content document, every snapshot key and the load marker."""
    content = Content(fingerprints=await mongo_fingerprints(database))
    for model in CONTENT_MODELS:
        collection = model.Settings.name
        async for raw in database[collection].find({}):
            problem, rehash = None, None
            try:
                document = model.model_validate(raw)
            except ValidationError as error:
                problem = _first_error(error)
            else:
                rehash = content_hash(document)
                if isinstance(document, CourseContent):
                    content.courses[document.id] = document
                elif isinstance(document, QuizContent):
                    content.quizzes[document.id] = document
            content_id = str(raw["_id"])
            content.documents[content_id] = DocumentSummary(
                id=content_id,
                collection=collection,
                version=_int(raw.get("version")),
                content_hash=str(raw.get("content_hash", "")),
                status=str(raw.get("status", "published")),
                course_id=raw.get("course_id"),
                rehash=rehash,
                problem=problem,
            )
    async for row in database[ContentVersion.Settings.name].find(
        {}, {"content_id": 1, "version": 1, "content_hash": 1}
    ):
        content.versions[(str(row["content_id"]), _int(row["version"]))] = str(
            row.get("content_hash", "")
        )
    return content
