"""The catalog as the API shows it: categories, tracks and course cards."""

from typing import Annotated

from fastapi import Path
from pydantic import Field

from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.schemas import OutputSchema
from syllabus.kit.vocabulary import CourseLevel, PublicationStatus

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
    version: int
