"""Study plans as the API takes and shows them."""

import uuid
from datetime import date, datetime

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from syllabus.kit.ids import CourseId, ExamId
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.studyplans.models import MAX_MINUTES_PER_DAY, MIN_MINUTES_PER_DAY
from syllabus.studyplans.planner import ItemKind

TARGET_DATE = (
    "The deadline (an exam's date, or when to be done): work is planned from the "
    "learner's today (in their time zone) to the day before it."
)
MINUTES_PER_DAY = "The most the learner will study on one day; the plan may ask for less."


def _one_of(first: str, second: str) -> JsonDict:
    """JSON Schema of "exactly one of ``first`` and ``second``" (stated so clients and the
    fuzzer know the rule the validator enforces)."""
    return {
        "oneOf": [
            {
                "required": [name],
                "properties": {name: {"type": "string"}, other: {"type": "null"}},
            }
            for name, other in ((first, second), (second, first))
        ]
    }


class StudyPlanCreate(InputSchema):
    """A plan for a course I am enrolled in (``course_id``) or for one of its exams
    (``exam_id``): exactly one of the two."""

    model_config = ConfigDict(json_schema_extra=_one_of("course_id", "exam_id"))

    course_id: CourseId | None = None
    exam_id: ExamId | None = None
    target_date: date = Field(description=TARGET_DATE, examples=["2027-06-01"])
    minutes_per_day: int = Field(
        ge=MIN_MINUTES_PER_DAY, le=MAX_MINUTES_PER_DAY, description=MINUTES_PER_DAY, examples=[45]
    )

    @model_validator(mode="after")
    def _one_target(self) -> "StudyPlanCreate":
        if (self.course_id is None) == (self.exam_id is None):
            raise ValueError("send exactly one of course_id and exam_id")
        return self


class StudyPlanRegenerate(InputSchema):
    """Optional changes: what is left out is kept from the latest version."""

    target_date: date | None = Field(None, description=TARGET_DATE, examples=["2027-06-01"])
    minutes_per_day: int | None = Field(
        None,
        ge=MIN_MINUTES_PER_DAY,
        le=MAX_MINUTES_PER_DAY,
        description=MINUTES_PER_DAY,
        examples=[45],
    )


class CompetencyToRevise(OutputSchema):
    code: str
    lessons: list[str] = Field(description="The course's lessons that teach it, to re-read")


class StudyPlanItemPublic(OutputSchema):
    position: int
    day: date
    kind: ItemKind
    content_id: str | None = Field(
        description="The lesson, practice, quiz or exam; null for a revision"
    )
    title: str | None = Field(
        description="The item's or the competency's title (null once the item is gone)"
    )
    competency: CompetencyToRevise | None = Field(description="What a revision item revises")
    minutes: int
    part: int = Field(description="A long item is split into parts on consecutive days")
    parts: int
    done: bool = Field(
        description="Read from progress when the plan is read: the lesson completed, the "
        "quiz passed, the practice done, the competency's mastery recovered, the exam sat"
    )
    optional: bool = Field(
        description="Not needed to complete the course (a practice, or a lesson or quiz its "
        "completion rule leaves out): laid out where there is room, never counted in "
        "items_total, never overdue"
    )
    overdue: bool = Field(
        description="Required, not done, and its day is before the learner's today"
    )


class StudyPlanSummary(OutputSchema):
    id: uuid.UUID
    course_id: str
    exam_id: str | None
    version: int = Field(description="The version shown (the latest unless asked)")
    versions: int = Field(description="How many versions the plan has (1 to this)")
    target_date: date
    minutes_per_day: int
    daily_minutes: int = Field(description="The pace the planner chose (at most minutes_per_day)")
    starts_on: date
    ends_on: date | None = Field(description="The day of the last item")
    planner: str
    items_total: int = Field(description="The plan's required items (optional ones apart)")
    items_done: int = Field(description="Of items_total, how many are done")
    optional_total: int = Field(description="The plan's optional items")
    optional_done: int = Field(description="Of optional_total, how many are done")
    created_at: datetime
    generated_at: datetime = Field(description="When this version was made")


class StudyPlanPublic(StudyPlanSummary):
    items: list[StudyPlanItemPublic]
