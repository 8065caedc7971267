"""Identifiers shared by both stores.

PostgreSQL rows get UUIDv7 primary keys (time-ordered, so B-tree inserts stay local).
Content is addressed everywhere by a *stable string id* such as ``lesson:rest-intro``:
authors choose it, MongoDB uses it as ``_id``, and PostgreSQL rows point at it. Mongo's
ObjectId never leaves MongoDB.
"""

import uuid
from typing import Annotated, Final

import uuid6
from pydantic import StringConstraints

SLUG_PATTERN: Final = r"[a-z0-9]+(?:-[a-z0-9]+)*"
"""Lower-case ASCII words joined by single hyphens: stable in URLs, files and SQL."""

CONTENT_PREFIXES: Final = (
    "course",
    "module",
    "lesson",
    "quiz",
    "question",
    "practice",
    "exam",
)


def uuid7() -> uuid.UUID:
    """A new UUIDv7 as a plain :class:`uuid.UUID` (drivers and JSON know that type)."""
    return uuid.UUID(int=uuid6.uuid7().int)


def content_id_pattern(prefix: str) -> str:
    """The full-match regex for ids of one content kind, e.g. ``^lesson:[a-z0-9-]+$``."""
    return rf"^{prefix}:{SLUG_PATTERN}$"


def _content_id(prefix: str) -> object:
    return StringConstraints(pattern=content_id_pattern(prefix), max_length=200)


CourseId = Annotated[str, _content_id("course")]
ModuleId = Annotated[str, _content_id("module")]
LessonId = Annotated[str, _content_id("lesson")]
QuizId = Annotated[str, _content_id("quiz")]
QuestionId = Annotated[str, _content_id("question")]
PracticeId = Annotated[str, _content_id("practice")]
ExamId = Annotated[str, _content_id("exam")]
Slug = Annotated[str, StringConstraints(pattern=rf"^{SLUG_PATTERN}$", max_length=120)]

COMPETENCY_CODE_PATTERN: Final = r"[a-z0-9]+(?:[.-][a-z0-9]+)*"
"""A competency's code: lower-case words or numbers joined by dots or hyphens, so both a
codifier's numbering (``ege-math.2.1``) and a skill's name (``sql-joins``) fit."""
CompetencyCode = Annotated[
    str, StringConstraints(pattern=rf"^{COMPETENCY_CODE_PATTERN}$", max_length=64)
]
