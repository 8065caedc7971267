"""The catalog as the API shows it: categories, tracks and course cards."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.schemas import OutputSchema
from syllabus.kit.vocabulary import CourseLevel, ExamType, PublicationStatus

COURSE_REF = rf"^(course:)?{SLUG_PATTERN}$"
CourseRef = Annotated[
    str,
    Path(
        pattern=COURSE_REF,
        max_length=200,
        description="A course id (`course:rest-api-design`) or its slug (`rest-api-design`).",
    ),
]
"""A course in a URL path, by id or slug."""
CourseRefField = Annotated[
    str,
    Field(
        pattern=COURSE_REF,
        max_length=200,
        description="A course id (`course:rest-api-design`) or its slug (`rest-api-design`).",
    ),
]
"""A course in a request body, by id or slug, like every course route takes it."""

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_NEGATIONS = 32
"""PostgreSQL's web-search parser reads each ``-`` before a word as a NOT, and a run of
more than 32 NOTs overflows its operator stack ("tsquery stack too small", a 500 for
``q=`` of 33 hyphens). Other operators do not nest; no real query needs 33 hyphens."""


def _fits_the_search_parser(text: str) -> str:
    if text.count("-") > MAX_SEARCH_NEGATIONS:
        raise PydanticCustomError(
            "search_operators",
            "at most {limit} '-' characters (each can be a NOT operator)",
            {"limit": MAX_SEARCH_NEGATIONS},
        )
    return text


SearchText = Annotated[str, AfterValidator(_fits_the_search_parser)]
"""Words for ``GET /courses?q=``, in web-search syntax, that PostgreSQL can parse."""


class CategoryPublic(OutputSchema):
    slug: str
    name: str


class TrackPublic(OutputSchema):
    slug: str
    name: str
    category: str = Field(description="The category's slug.")
    description: str


class CoursePublic(OutputSchema):
    id: str = Field(description="Stable content id, e.g. course:rest-api-design.")
    slug: str
    title: str
    description: str
    level: CourseLevel
    category: str
    track: str | None
    status: PublicationStatus
    price_cents: int | None
    is_free: bool
    currency: str = Field(description="ISO 4217 code the price is in, e.g. USD.")
    language: str = Field(description="BCP 47 primary language tag, e.g. en, ru.")
    exam_type: ExamType | None = Field(description="The exam it prepares for, if any.")
    subject: str | None = Field(description="School subject, e.g. math.")
    grade: int | None = Field(description="School grade 1-11, if any.")
    lesson_count: int = Field(description="Lessons in the course's current outline.")
    duration_minutes: int = Field(
        description="Sum of the items' durations (lessons' own, quizzes' time limits)."
    )
    updated_at: datetime = Field(
        description="When a content load last changed the course or one of its items."
    )
    version: int


CourseSort = Literal[
    "relevance",
    "created",
    "-created",
    "title",
    "-title",
    "updated",
    "-updated",
    "price",
    "-price",
    "popularity",
    "-popularity",
]
"""How ``GET /courses`` sorts: a key, ascending, or descending with ``-``."""


class CourseHighlight(OutputSchema):
    """What matched a search, as HTML: the text escaped, each match in ``<mark>``."""

    title: str = Field(description="The whole title, matches marked.")
    description: str = Field(
        description="Up to two fragments of the description around matches, joined by ` … `."
    )


class CourseListItem(CoursePublic):
    highlight: CourseHighlight | None = Field(
        description="With `q`: where the course matched. Null otherwise."
    )
