"""Beanie documents for authored content.

Each document's ``_id`` is its stable string id (``lesson:rest-intro``), validated by
prefix, so PostgreSQL rows can point at content without ever seeing an ObjectId.
Indexes live in each document's ``Settings`` and are created by ``init_beanie``.
References between documents are plain ids resolved by the service: no ``Link``.
"""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

import pymongo
from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter
from pymongo import IndexModel

from syllabus.content.blocks import Block
from syllabus.kit.ids import (
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
from syllabus.kit.vocabulary import (
    CourseLevel,
    ExamType,
    ItemType,
    PublicationStatus,
    ScoringPolicy,
)

QuestionType = Literal[
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_text",
    "numeric",
    "ordering",
    "matching",
]
ReviewPolicy = Literal["never", "after_submit", "after_pass", "after_last_attempt"]
LessonFormat = Literal["mdx", "md"]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def _now() -> datetime:
    return datetime.now(UTC)


class Embedded(BaseModel):
    """Nested parts of a document: strict, so a typo in authored data is an error."""

    # Built at first use, not at import (like kit.schemas.OutputSchema): a document's
    # validator builds what it needs of these when the document's is built.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class VersionedContent(Document):
    """What every authored piece carries: a title, its version and the hash it came from."""

    # Built when a document of the kind is first read or written, not at import: a
    # worker reads lessons, quizzes and questions, and never most of the others.
    model_config = ConfigDict(defer_build=True)

    id: str  # type: ignore[assignment]  # the stable content id, narrowed by each kind
    title: str = Field(min_length=1, max_length=300)
    version: int = Field(default=1, ge=1)
    content_hash: Sha256Hex
    status: PublicationStatus = "published"
    loaded_at: datetime = Field(default_factory=_now)
    source_id: str | None = None
    """The content source that loaded it (``source.json``; see content/sources.py)."""


class ModuleItem(Embedded):
    """What the outline shows of an item, copied in at load time so an outline is one
    read of one course document."""

    id: str = Field(pattern=r"^(lesson|quiz|practice):[a-z0-9]+(?:-[a-z0-9]+)*$")
    type: ItemType
    title: str
    duration_minutes: int | None = None
    points: int = Field(ge=0)
    required: bool = False
    preview: bool = False


class Module(Embedded):
    id: ModuleId
    title: str = Field(min_length=1, max_length=300)
    order: int = Field(ge=0)
    items: list[ModuleItem] = Field(default_factory=list)


class CompletionRule(Embedded):
    required_lessons: list[LessonId] = Field(default_factory=list)
    required_quizzes: list[QuizId] = Field(default_factory=list)


class CourseContent(VersionedContent):
    id: CourseId
    slug: Slug
    description: str = ""
    level: CourseLevel
    category: Slug
    track: Slug | None = None
    price_cents: int | None = Field(default=None, ge=0)
    modules: list[Module] = Field(default_factory=list)
    completion: CompletionRule = Field(default_factory=CompletionRule)

    class Settings:
        name = "course_content"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("slug", pymongo.ASCENDING)], name="slug_unique", unique=True),
            IndexModel([("status", pymongo.ASCENDING), ("category", pymongo.ASCENDING)]),
        ]


class LessonContent(VersionedContent):
    id: LessonId
    course_id: CourseId
    duration_minutes: int = Field(default=5, ge=0, le=24 * 60)
    objectives: list[str] = Field(default_factory=list)
    key_concepts: list[str] = Field(default_factory=list)
    preview: bool = False
    description: str = ""
    meta: dict[str, JsonValue] = Field(default_factory=dict)
    format: LessonFormat = "mdx"
    source: str = ""
    imports: list[str] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    competencies: list[CompetencyCode] = Field(default_factory=list)
    """Codes of competencies.json this lesson teaches."""

    class Settings:
        name = "lesson_content"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("course_id", pymongo.ASCENDING)]),
        ]


class QuestionOption(Embedded):
    id: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1)


class SingleChoiceKey(Embedded):
    type: Literal["single_choice"] = "single_choice"
    correct: str


class MultipleChoiceKey(Embedded):
    type: Literal["multiple_choice"] = "multiple_choice"
    correct: list[str]


class TrueFalseKey(Embedded):
    type: Literal["true_false"] = "true_false"
    correct: bool


class ShortTextKey(Embedded):
    type: Literal["short_text"] = "short_text"
    accepted: list[str]


class NumericKey(Embedded):
    type: Literal["numeric"] = "numeric"
    value: float
    tolerance: float = Field(default=0.0, ge=0)


class OrderingKey(Embedded):
    type: Literal["ordering"] = "ordering"
    order: list[str]


class MatchingKey(Embedded):
    type: Literal["matching"] = "matching"
    pairs: dict[str, str]


AnswerKey = Annotated[
    SingleChoiceKey
    | MultipleChoiceKey
    | TrueFalseKey
    | ShortTextKey
    | NumericKey
    | OrderingKey
    | MatchingKey,
    Field(discriminator="type"),
]


def answer_key_schemas() -> dict[str, Any]:
    """``AnswerKey`` (one shape per question type, told apart by ``type``) as OpenAPI
    components: the review's ``correct_answer`` refers to it, so the shapes are written
    once, here, and learner-side code never imports this module to document them."""
    schema = TypeAdapter(AnswerKey).json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    shapes: dict[str, Any] = schema.pop("$defs")
    for shape in shapes.values():  # always sent, so required (it tells the shapes apart)
        shape["required"] = sorted({"type", *shape.get("required", [])})
    return {**shapes, "AnswerKey": {"title": "AnswerKey", **schema}}


class Question(VersionedContent):
    """A bank question. The answer key lives only here, never in a learner schema."""

    id: QuestionId
    type: QuestionType
    prompt: str = Field(min_length=1)
    category: str | None = None
    options: list[QuestionOption] = Field(default_factory=list)
    left: list[QuestionOption] = Field(default_factory=list)
    right: list[QuestionOption] = Field(default_factory=list)
    key: AnswerKey
    points: float = Field(default=1.0, gt=0)
    explanation: str | None = None
    skills: list[str] = Field(default_factory=list)
    competencies: list[CompetencyCode] = Field(default_factory=list)
    """Codes of competencies.json this question tests: its points are their evidence."""

    class Settings:
        name = "questions"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("type", pymongo.ASCENDING)]),
            IndexModel([("skills", pymongo.ASCENDING)]),
        ]


def quiz_hash(quiz_hash: str, question_hashes: Iterable[str]) -> str:
    """A quiz's content as learners see it: its own hash and its questions' (those found,
    in the quiz's order). The loader records it in ``content_index.content_hash`` and
    the quiz read recomputes it from MongoDB, so a question edit that leaves its quiz
    unchanged still changes the quiz's cache key and ETag."""
    return hashlib.sha256("/".join([quiz_hash, *question_hashes]).encode()).hexdigest()


class QuizContent(VersionedContent):
    id: QuizId
    course_id: CourseId
    pass_percent: float = Field(default=70.0, ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1)
    time_limit_seconds: int | None = Field(default=None, ge=1)
    shuffle: bool = False
    review_policy: ReviewPolicy = "after_submit"
    scoring_policy: ScoringPolicy = "highest"
    question_ids: list[QuestionId] = Field(default_factory=list)

    class Settings:
        name = "quiz_content"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("course_id", pymongo.ASCENDING)]),
        ]


CheckKind = Literal["output_equals", "contains", "regex", "test"]


class PracticeCheck(Embedded):
    kind: CheckKind
    expected: str
    description: str = ""


class SampleTable(Embedded):
    """One table of an SQL practice's sample data: its columns (name → SQL type, in
    order) and rows (values in column order). Made in the practice's sandbox schema
    (:mod:`syllabus.db.sandbox`) for learners' queries to read."""

    name: str
    columns: dict[str, str]
    rows: list[list[Any]] = Field(default_factory=list)


class SampleData(Embedded):
    """What an SQL practice's automatic check runs against. ``ordered``: a result must
    come in the reference's order; otherwise results compare as multisets of rows."""

    tables: list[SampleTable]
    ordered: bool = False


class PracticeContent(VersionedContent):
    id: PracticeId
    course_id: CourseId
    instructions: str = ""
    language: str = Field(default="python", min_length=1, max_length=40)
    editor: dict[str, Any] = Field(default_factory=dict)
    starter_code: str = ""
    reference_solution: str = ""
    checks: list[PracticeCheck] = Field(default_factory=list)
    sample_data: SampleData | None = None
    """SQL practices: the tables the learner's query and ``reference_solution`` (the
    reference query) run against in the sandbox."""
    competencies: list[CompetencyCode] = Field(default_factory=list)
    """Codes of competencies.json this practice trains and its reviews assess."""

    class Settings:
        name = "practice_content"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("course_id", pymongo.ASCENDING)]),
        ]


ExamReviewPolicy = Literal["never", "after_result", "after_close"]
"""When a learner may see an exam's keys, solutions and per-task correctness: never;
once their result is final (every expert task graded); or once the exam's availability
window has closed too, so keys cannot travel to those still sitting it."""
Grading = Literal["auto", "expert"]


class ExamPart(Embedded):
    number: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=300)


class Criterion(Embedded):
    """One level of an expert task's rubric: the points it gives and when."""

    points: int = Field(ge=0)
    description: str = Field(min_length=1)


class ExpertProblem(Embedded):
    """A problem of an expert-graded task. ``answer`` and ``solution`` are for graders
    and the review only; the learner schema has no field for them."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60)
    prompt: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    solution: str = ""


class ExamTask(Embedded):
    """One numbered task: an attempt draws one item of its pool (auto: bank question ids)
    or of its problems (expert)."""

    number: int = Field(ge=1)
    part: int = Field(ge=1)
    max_points: int = Field(ge=1)
    grading: Grading
    topic: str = ""
    pool: list[QuestionId] = Field(default_factory=list)
    problems: list[ExpertProblem] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    competencies: list[CompetencyCode] = Field(default_factory=list)
    """Codes of competencies.json an expert task tests: its final mark is their evidence."""


class ExpertGrading(Embedded):
    """How an exam's expert tasks are graded (docs/exams.md, "Expert grading"): by one
    teacher, or (``double_check``) by two who do not see each other's marks, and a third
    whose mark is final when the two differ by ``threshold`` points or more; below it the
    higher of the two counts (the ЕГЭ's rule, in the learner's favour)."""

    double_check: bool = False
    threshold: int = Field(default=2, ge=1, le=100)


AdaptiveStrategy = Literal["weak_competencies"]


class Adaptive(Embedded):
    """How an attempt's variant adapts to its learner (docs/exams.md, "Adaptive
    variants"). ``weak_competencies``: each auto task draws among the pool questions that
    name a competency the learner's mastery is below ``below`` in, when there are any."""

    strategy: AdaptiveStrategy = "weak_competencies"
    below: float = Field(default=0.75, gt=0, le=1)


class ExamContent(VersionedContent):
    """A timed exam of a course (docs/exams.md). ``scale[p]`` is the test score of
    primary score ``p`` (an empty scale: the test score is the percentage)."""

    id: ExamId
    course_id: CourseId
    exam_type: ExamType
    subject: Slug
    year: int | None = None
    duration_seconds: int = Field(ge=60, le=24 * 3600)
    parts: list[ExamPart]
    tasks: list[ExamTask]
    scale: list[int] = Field(default_factory=list)
    passing_score: int | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=1)
    available_from: datetime | None = None
    available_until: datetime | None = None
    review_policy: ExamReviewPolicy = "after_result"
    grading: ExpertGrading = Field(default_factory=ExpertGrading)
    adaptive: Adaptive | None = None

    class Settings:
        name = "exam_content"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("course_id", pymongo.ASCENDING)]),
        ]


class ContentVersion(Document):
    """Every version of every content document, written once and never changed, so an
    attempt can be graded against (and point to) exactly what the learner saw."""

    id: str  # type: ignore[assignment]  # "<content id>@<version>"
    content_id: str
    collection: str
    version: int = Field(ge=1)
    content_hash: Sha256Hex
    document: dict[str, Any]
    created_at: datetime = Field(default_factory=_now)

    class Settings:
        name = "content_versions"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel(
                [("content_id", pymongo.ASCENDING), ("version", pymongo.ASCENDING)],
                name="content_id_version_unique",
                unique=True,
            ),
        ]


class LoadMarker(Document):
    """Which folder state (fingerprint) MongoDB holds of each source, written in the same
    transaction as the content of a load, so an unchanged re-load can stop before
    reading a file."""

    id: str  # type: ignore[assignment]  # "source:<id>", or "latest" for a folder naming none
    fingerprint: str
    at: datetime

    class Settings:
        name = "content_loads"


CONTENT_MODELS: tuple[type[VersionedContent], ...] = (
    CourseContent,
    LessonContent,
    QuizContent,
    Question,
    PracticeContent,
    ExamContent,
)
DOCUMENT_MODELS: tuple[type[Document], ...] = (*CONTENT_MODELS, ContentVersion, LoadMarker)
