"""The authoring format, one strict schema per kind of file (see docs/authoring.md).

These are *input* shapes: unknown keys are errors, defaults are the documented ones.
They are turned into storage documents by ``build``; nothing here is stored as is.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syllabus.content.documents import (
    Adaptive,
    CheckKind,
    ExamReviewPolicy,
    ExpertGrading,
    Grading,
    ReviewPolicy,
)
from syllabus.db.sandbox import COLUMN_TYPE, IDENTIFIER
from syllabus.kit.ids import (
    SLUG_PATTERN,
    CompetencyCode,
    CourseId,
    ExamId,
    LessonId,
    ModuleId,
    PracticeId,
    QuestionId,
    QuizId,
    Slug,
)
from syllabus.kit.standards import CurrencyCode, LanguageTag
from syllabus.kit.vocabulary import (
    CourseLevel,
    ExamType,
    PublicationStatus,
    Rarity,
    ScoringPolicy,
)

ITEM_ID_PATTERN = rf"^(lesson|quiz|practice):{SLUG_PATTERN}$"
Title = Annotated[str, Field(min_length=1, max_length=300)]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceIn(Strict):
    """``source.json``: the source this folder's content belongs to (content/sources.py)."""

    id: Slug
    description: str = ""


class CategoryIn(Strict):
    slug: Slug
    name: Title


class CompetencyIn(Strict):
    """One entry of competencies.json: a skill or a codifier element. ``parent`` makes a
    tree (a section and its elements); the reader refuses unknown parents and cycles."""

    code: CompetencyCode
    title: Title
    description: str = ""
    parent: CompetencyCode | None = None


Competencies = Annotated[list[CompetencyCode], Field(max_length=20)]
"""What a lesson teaches, or a question or practice tests: codes of competencies.json."""


class TrackIn(Strict):
    slug: Slug
    name: Title
    category: Slug
    description: str = ""


class LessonsCompletedRule(Strict):
    type: Literal["lessons_completed"]
    count: int = Field(ge=1)


class QuizPerfectRule(Strict):
    type: Literal["quiz_perfect_score"]


class StreakRule(Strict):
    type: Literal["streak_days"]
    days: int = Field(ge=1)


class CourseCompletedRule(Strict):
    type: Literal["course_completed"]
    course: CourseId | None = None


AchievementRule = Annotated[
    LessonsCompletedRule | QuizPerfectRule | StreakRule | CourseCompletedRule,
    Field(discriminator="type"),
]


class AchievementIn(Strict):
    code: Slug
    title: Title
    description: str = ""
    rarity: Rarity = "common"
    rule: AchievementRule


class ModuleIn(Strict):
    id: ModuleId
    title: Title
    order: int = Field(ge=0)
    items: list[Annotated[str, Field(pattern=ITEM_ID_PATTERN)]] = Field(min_length=1)


class CompletionIn(Strict):
    lessons: Literal["all"] | list[LessonId] = "all"
    quizzes: list[QuizId] = Field(default_factory=list)


class PointsIn(Strict):
    lesson: int = Field(default=10, ge=0)
    quiz: int = Field(default=20, ge=0)
    practice: int = Field(default=15, ge=0)
    items: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


class CourseIn(Strict):
    id: CourseId
    title: Title
    description: str = ""
    level: CourseLevel
    category: Slug
    track: Slug | None = None
    status: PublicationStatus = "draft"
    price_cents: int | None = Field(default=None, ge=0)
    language: LanguageTag
    currency: CurrencyCode | None = None
    exam_type: ExamType | None = None
    subject: Slug | None = None
    grade: int | None = Field(default=None, ge=1, le=11)
    modules: list[ModuleIn] = Field(min_length=1)
    completion: CompletionIn = Field(default_factory=CompletionIn)
    points: PointsIn = Field(default_factory=PointsIn)


class LessonFrontMatter(Strict):
    """The keys the product uses. Any other key is kept in the lesson's ``meta`` (with a
    warning), so front matter written for Docusaurus, Starlight or Nextra loads as it is.
    ``id`` and ``title`` are filled in by the reader when absent (docs/authoring.md)."""

    id: LessonId
    title: Title
    description: str = ""
    duration_minutes: int = Field(default=5, ge=0, le=24 * 60)
    objectives: list[Text] = Field(default_factory=list)
    key_concepts: list[Text] = Field(default_factory=list)
    preview: bool = False
    competencies: Competencies = Field(default_factory=list)


LESSON_KEYS = frozenset(LessonFrontMatter.model_fields)


class OptionIn(Strict):
    id: Annotated[str, Field(min_length=1, max_length=32)]
    text: Text


class QuestionBase(Strict):
    id: QuestionId
    prompt: Text
    points: float = Field(default=1.0, gt=0)
    explanation: str | None = None
    skills: list[Text] = Field(default_factory=list)
    category: str | None = None
    competencies: Competencies = Field(default_factory=list)


def _option_ids(info: ValidationInfo, name: str = "options") -> set[str]:
    """Ids of the options validated before this field (empty if they were invalid)."""
    options = info.data.get(name) or []
    ids = [option.id for option in options]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name} ids must be unique")
    return set(ids)


class SingleChoiceIn(QuestionBase):
    type: Literal["single_choice"]
    options: list[OptionIn] = Field(min_length=2)
    correct: Annotated[str, Field(min_length=1)]

    @field_validator("correct")
    @classmethod
    def _correct_is_an_option(cls, value: str, info: ValidationInfo) -> str:
        ids = _option_ids(info)
        if ids and value not in ids:
            raise ValueError(f"{value!r} is not one of the option ids {sorted(ids)}")
        return value


class MultipleChoiceIn(QuestionBase):
    type: Literal["multiple_choice"]
    options: list[OptionIn] = Field(min_length=2)
    correct: list[str] = Field(min_length=1)

    @field_validator("correct")
    @classmethod
    def _correct_are_options(cls, value: list[str], info: ValidationInfo) -> list[str]:
        ids = _option_ids(info)
        unknown = [option for option in value if option not in ids]
        if ids and unknown:
            raise ValueError(f"{unknown} are not option ids {sorted(ids)}")
        if len(set(value)) != len(value):
            raise ValueError("lists an option twice")
        return value


class TrueFalseIn(QuestionBase):
    type: Literal["true_false"]
    correct: bool


class ShortTextIn(QuestionBase):
    type: Literal["short_text"]
    accepted: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)


class NumericIn(QuestionBase):
    type: Literal["numeric"]
    value: float
    tolerance: float = Field(default=0.0, ge=0)


class OrderingIn(QuestionBase):
    type: Literal["ordering"]
    options: list[OptionIn] = Field(min_length=2)
    order: list[str]

    @field_validator("order")
    @classmethod
    def _order_is_a_permutation(cls, value: list[str], info: ValidationInfo) -> list[str]:
        ids = _option_ids(info)
        if ids and sorted(value) != sorted(ids):
            raise ValueError(f"must list every option id exactly once: {sorted(ids)}")
        return value


class MatchingIn(QuestionBase):
    type: Literal["matching"]
    left: list[OptionIn] = Field(min_length=2)
    right: list[OptionIn] = Field(min_length=2)
    pairs: dict[str, str]

    @field_validator("pairs")
    @classmethod
    def _pairs_cover_left(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        left, right = _option_ids(info, "left"), _option_ids(info, "right")
        if left and set(value) != left:
            raise ValueError(f"must map every left id exactly once: {sorted(left)}")
        wrong = sorted(target for target in value.values() if target not in right)
        if right and wrong:
            raise ValueError(f"{wrong} are not right ids {sorted(right)}")
        return value


QuestionIn = (
    SingleChoiceIn
    | MultipleChoiceIn
    | TrueFalseIn
    | ShortTextIn
    | NumericIn
    | OrderingIn
    | MatchingIn
)
QUESTION_MODELS: dict[str, type[BaseModel]] = {
    "single_choice": SingleChoiceIn,
    "multiple_choice": MultipleChoiceIn,
    "true_false": TrueFalseIn,
    "short_text": ShortTextIn,
    "numeric": NumericIn,
    "ordering": OrderingIn,
    "matching": MatchingIn,
}


class LegacyQuestionIn(Strict):
    """The old test system's export: ``question`` instead of ``prompt``, options as plain
    strings, the answer by option index."""

    id: int | Annotated[str, Field(min_length=1)]
    category: str | None = None
    type: Literal["single", "multiple", "boolean", "text", "number"]
    question: Text
    options: list[Text] = Field(default_factory=list)
    answer: Any = None
    tolerance: float = Field(default=0.0, ge=0)
    points: float = Field(default=1.0, gt=0)
    explanation: str | None = None
    skills: list[Text] = Field(default_factory=list)
    competencies: Competencies = Field(default_factory=list)


class QuizIn(Strict):
    id: QuizId
    title: Title
    pass_percent: float = Field(default=70.0, ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1)
    time_limit_seconds: int | None = Field(default=None, ge=1)
    shuffle: bool = False
    review: ReviewPolicy = "after_submit"
    scoring: ScoringPolicy = "highest"
    questions: list[QuestionId | dict[str, Any]] = Field(min_length=1)


class CheckIn(Strict):
    kind: CheckKind
    expected: str
    description: str = ""


MAX_SAMPLE_TABLES = 20
MAX_SAMPLE_COLUMNS = 50
MAX_SAMPLE_ROWS = 2000
SqlName = Annotated[str, Field(pattern=f"^{IDENTIFIER.pattern}$")]
SqlType = Annotated[str, Field(pattern=f"^{COLUMN_TYPE.pattern}$", max_length=60)]
Cell = str | int | float | bool | None


class SampleTableIn(Strict):
    """A table of sample data: ``columns`` maps each name to its SQL type, in order;
    each row lists one value per column (JSON; PostgreSQL casts it to the type)."""

    name: SqlName
    columns: dict[SqlName, SqlType] = Field(min_length=1, max_length=MAX_SAMPLE_COLUMNS)
    rows: list[list[Cell]] = Field(default_factory=list, max_length=MAX_SAMPLE_ROWS)

    @model_validator(mode="after")
    def _rows_fit(self) -> "SampleTableIn":
        for number, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{number}] has {len(row)} values for {len(self.columns)} columns"
                )
        return self


class SampleDataIn(Strict):
    """An SQL practice's sample data; ``ordered``: the result's row order counts."""

    tables: list[SampleTableIn] = Field(min_length=1, max_length=MAX_SAMPLE_TABLES)
    ordered: bool = False

    @field_validator("tables")
    @classmethod
    def _unique_names(cls, tables: list[SampleTableIn]) -> list[SampleTableIn]:
        names = [table.name for table in tables]
        if len(set(names)) != len(names):
            raise ValueError("table names must be unique")
        return tables


class PracticeIn(Strict):
    id: PracticeId
    title: Title
    instructions: str = ""
    language: Annotated[str, Field(min_length=1, max_length=40)] = "python"
    editor: dict[str, str | int | bool] = Field(default_factory=dict)
    starter_code: str = ""
    reference_solution: str = ""
    checks: list[CheckIn] = Field(default_factory=list)
    sample_data: SampleDataIn | None = None
    competencies: Competencies = Field(default_factory=list)

    @model_validator(mode="after")
    def _checkable(self) -> "PracticeIn":
        """Pattern checks, or sample data for an SQL practice with a reference query."""
        if self.sample_data is None:
            if not self.checks:
                raise ValueError("a practice needs checks (or, in SQL, sample_data)")
        elif self.language != "sql" or not self.reference_solution.strip():
            raise ValueError(
                "sample_data needs language 'sql' and the reference query in reference_solution"
            )
        return self


MAX_TASKS = 100
MAX_TASK_POINTS = 100


class ExamPartIn(Strict):
    number: int = Field(ge=1)
    title: Title


class CriterionIn(Strict):
    points: int = Field(ge=0, le=MAX_TASK_POINTS)
    description: Text


class ExpertProblemIn(Strict):
    id: Annotated[str, Field(pattern=rf"^{SLUG_PATTERN}$", max_length=60)]
    prompt: Text
    answer: Text
    solution: str = ""


class PoolFilterIn(Strict):
    """A pool entry naming questions by bank and tags: every question of
    ``questions/<bank>.json`` that has each of ``skills`` (none: the whole bank)."""

    bank: Slug
    skills: list[Text] = Field(default_factory=list, max_length=20)


class ExamTaskIn(Strict):
    """Auto tasks draw from ``pool`` (bank question ids, inline questions, or a bank and
    tag filter: :class:`PoolFilterIn`); expert tasks from ``problems``, graded by a
    teacher against ``criteria``."""

    number: int = Field(ge=1, le=MAX_TASKS)
    part: int = Field(ge=1)
    max_points: int = Field(ge=1, le=MAX_TASK_POINTS)
    grading: Grading
    topic: str = ""
    pool: list[QuestionId | dict[str, Any]] = Field(default_factory=list)
    problems: list[ExpertProblemIn] = Field(default_factory=list)
    criteria: list[CriterionIn] = Field(default_factory=list)
    competencies: Competencies = Field(default_factory=list)
    """An expert task's competencies (its mark is their evidence); an auto task's
    questions name their own."""

    @field_validator("pool")
    @classmethod
    def _pool_for_auto(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        grading = info.data.get("grading")
        if grading == "auto" and not value:
            raise ValueError("an auto-graded task needs at least one question in its pool")
        if grading == "expert" and value:
            raise ValueError("an expert-graded task draws from problems, not a pool")
        return value

    @field_validator("problems")
    @classmethod
    def _problems_for_expert(
        cls, value: list[ExpertProblemIn], info: ValidationInfo
    ) -> list[ExpertProblemIn]:
        grading = info.data.get("grading")
        if grading == "expert" and not value:
            raise ValueError("an expert-graded task needs at least one problem")
        if grading == "auto" and value:
            raise ValueError("an auto-graded task draws from its pool, not problems")
        ids = [problem.id for problem in value]
        if len(set(ids)) != len(ids):
            raise ValueError("problem ids must be unique within the task")
        return value

    @field_validator("criteria")
    @classmethod
    def _criteria_rubric(cls, value: list[CriterionIn], info: ValidationInfo) -> list[CriterionIn]:
        grading, top = info.data.get("grading"), info.data.get("max_points")
        if grading == "auto" and value:
            raise ValueError("only expert-graded tasks have criteria")
        if grading == "expert":
            points = [criterion.points for criterion in value]
            if not points:
                raise ValueError("an expert-graded task needs its criteria")
            if len(set(points)) != len(points):
                raise ValueError("each criterion gives a different number of points")
            if top is not None and max(points) != top:
                raise ValueError(f"the highest criterion must give max_points ({top})")
        return value

    @field_validator("competencies")
    @classmethod
    def _competencies_for_expert(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("grading") == "auto" and value:
            raise ValueError("an auto-graded task's questions name its competencies")
        return value


class ExamIn(Strict):
    id: ExamId
    title: Title
    exam_type: ExamType
    subject: Slug
    year: int | None = Field(default=None, ge=2000, le=2100)
    duration_seconds: int = Field(ge=60, le=24 * 3600)
    parts: list[ExamPartIn] = Field(min_length=1)
    tasks: list[ExamTaskIn] = Field(min_length=1, max_length=MAX_TASKS)
    scale: list[Annotated[int, Field(ge=0, le=1000)]] = Field(default_factory=list)
    passing_score: int | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=1)
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    review: ExamReviewPolicy = "after_result"
    grading: ExpertGrading = Field(default_factory=ExpertGrading)
    adaptive: Adaptive | None = None

    @field_validator("parts")
    @classmethod
    def _parts_numbered(cls, value: list[ExamPartIn]) -> list[ExamPartIn]:
        numbers = [part.number for part in value]
        if numbers != list(range(1, len(value) + 1)):
            raise ValueError(f"parts must be numbered 1, 2, ... in order (got {numbers})")
        return value

    @field_validator("tasks")
    @classmethod
    def _tasks_numbered(cls, value: list[ExamTaskIn], info: ValidationInfo) -> list[ExamTaskIn]:
        numbers = [task.number for task in value]
        if numbers != list(range(1, len(value) + 1)):
            raise ValueError(f"tasks must be numbered 1, 2, ... in order (got {numbers})")
        parts = {part.number for part in info.data.get("parts") or []}
        for task in value:
            if parts and task.part not in parts:
                raise ValueError(
                    f"task {task.number}: part {task.part} is not one of {sorted(parts)}"
                )
        return value

    @field_validator("scale")
    @classmethod
    def _scale_covers_primary(cls, value: list[int], info: ValidationInfo) -> list[int]:
        tasks = info.data.get("tasks")
        if not value or tasks is None:
            return value
        total = sum(task.max_points for task in tasks)
        if len(value) != total + 1:
            raise ValueError(
                f"must give the test score of every primary score 0..{total}: "
                f"{total + 1} numbers, not {len(value)}"
            )
        drops = [p for p in range(1, len(value)) if value[p] < value[p - 1]]
        if drops:
            raise ValueError(
                f"must not decrease (primary {drops[0]} scores less than {drops[0] - 1})"
            )
        return value

    @field_validator("passing_score")
    @classmethod
    def _passing_within_scale(cls, value: int | None, info: ValidationInfo) -> int | None:
        scale = info.data.get("scale")
        top = scale[-1] if scale else 100
        if value is not None and scale is not None and value > top:
            raise ValueError(f"is above the highest test score ({top})")
        return value

    @field_validator("available_until")
    @classmethod
    def _window_ordered(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("available_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after available_from")
        return value
