"""The catalog as the API shows it: categories, tracks and course cards."""

from typing import Literal

from pydantic import Field

from syllabus.kit.schemas import OutputSchema

CourseLevel = Literal["Beginner", "Elementary", "Intermediate", "Advanced", "Expert"]


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
    status: Literal["draft", "published", "archived"]
    price_cents: int | None
    is_free: bool
    version: int
