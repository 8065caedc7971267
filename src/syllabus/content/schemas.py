"""Content as learners receive it. These shapes are separate from the stored documents:
the quiz and question shapes below have no field that could carry an answer key, an
accepted answer, a tolerance or an explanation, and the practice shape none for the
reference solution or the checks, so none can leak by accident."""

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from syllabus.content.blocks import Block
from syllabus.content.documents import (
    LessonFormat,
    QuestionType,
    ReviewPolicy,
)
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.vocabulary import CourseLevel, ItemType, ScoringPolicy

LessonRef = Annotated[str, Path(pattern=content_id_pattern("lesson"), max_length=200)]
"""A lesson id in a URL path."""
QuizRef = Annotated[str, Path(pattern=content_id_pattern("quiz"), max_length=200)]
"""A quiz id in a URL path."""
PracticeRef = Annotated[str, Path(pattern=content_id_pattern("practice"), max_length=200)]
"""A practice id in a URL path."""


class PublicSchema(BaseModel):
    # Built at first use, not at import: see kit.schemas.OutputSchema.
    model_config = ConfigDict(extra="forbid", from_attributes=True, defer_build=True)


class OutlineItem(PublicSchema):
    id: str
    type: ItemType
    title: str
    duration_minutes: int | None
    points: int
    required: bool
    preview: bool


class OutlineModule(PublicSchema):
    id: str
    title: str
    order: int
    items: list[OutlineItem]


class CourseOutline(PublicSchema):
    course_id: str
    title: str
    level: CourseLevel
    version: int
    modules: list[OutlineModule]


class LessonPublic(PublicSchema):
    id: str
    course_id: str
    title: str
    duration_minutes: int
    objectives: list[str]
    key_concepts: list[str]
    preview: bool
    version: int
    description: str
    meta: dict[str, JsonValue] = Field(
        description="Front matter keys the loader does not know, kept as the author wrote them."
    )
    format: LessonFormat = Field(description="`mdx` or `md`: how `source` is written.")
    source: str = Field(description="The body after the front matter, byte for byte.")
    imports: list[str] = Field(description="The MDX `import`/`export` blocks, as written.")
    blocks: list[Block] = Field(description="The body as typed blocks (docs/authoring.md).")


class OptionPublic(PublicSchema):
    id: str
    text: str


class QuestionPublic(PublicSchema):
    """A question as asked: prompt and choices, never the key."""

    id: str
    type: QuestionType
    prompt: str
    points: float
    options: list[OptionPublic] | None = None
    left: list[OptionPublic] | None = None
    right: list[OptionPublic] | None = None


class QuizPublic(PublicSchema):
    id: str
    course_id: str
    title: str
    version: int
    pass_percent: float
    max_attempts: int | None
    time_limit_seconds: int | None
    shuffle: bool
    review_policy: ReviewPolicy
    scoring_policy: ScoringPolicy
    max_score: float
    questions: list[QuestionPublic]


class PracticePublic(PublicSchema):
    """A practice as the learner works on it: never the reference solution or the checks."""

    id: str
    course_id: str
    title: str
    version: int
    instructions: str = Field(description="Markdown.")
    language: str
    editor: dict[str, str | int | bool] = Field(description="Editor settings, as authored.")
    starter_code: str
    competencies: list[str] = Field(description="Codes of the competencies it trains.")
