"""From validated author input to the documents MongoDB stores (see ``stored``) and the
rows the PostgreSQL catalog needs.

Each lesson, quiz, practice and question is built as soon as its file is validated, and
kept only in its stored form plus an :class:`Item` (what its course's outline and the
catalog need), so that a load holds the documents themselves, not every file's parsed and
model forms. Course documents need the whole folder (titles of their items, checked
references), so they are built last, by :func:`build`.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import JsonValue

from syllabus.content.documents import (
    CompletionRule,
    CourseContent,
    Criterion,
    ExamContent,
    ExamPart,
    ExamTask,
    ExpertProblem,
    LessonContent,
    LessonFormat,
    MatchingKey,
    Module,
    ModuleItem,
    MultipleChoiceKey,
    NumericKey,
    OrderingKey,
    PracticeCheck,
    PracticeContent,
    Question,
    QuestionOption,
    QuizContent,
    SampleData,
    ShortTextKey,
    SingleChoiceKey,
    TrueFalseKey,
    VersionedContent,
)
from syllabus.content.loader.formats import (
    AchievementIn,
    CategoryIn,
    CompetencyIn,
    CourseIn,
    ExamIn,
    LessonFrontMatter,
    MatchingIn,
    MultipleChoiceIn,
    NumericIn,
    OrderingIn,
    PracticeIn,
    QuestionIn,
    QuizIn,
    ShortTextIn,
    SingleChoiceIn,
    TrackIn,
    TrueFalseIn,
)
from syllabus.content.loader.problems import Lines
from syllabus.content.loader.sandbox import SqlPractice
from syllabus.content.loader.stored import PLACEHOLDER_HASH, Stored, store
from syllabus.kit.vocabulary import ItemType


@dataclass(frozen=True, slots=True)
class Item:
    """What a course's outline and the catalog need of one of its lessons, quizzes or
    practices, whose document is already built."""

    id: str
    type: ItemType
    title: str
    duration_minutes: int | None = None
    preview: bool = False
    pass_percent: float | None = None
    scoring_policy: str | None = None


@dataclass(slots=True)
class CourseFolder:
    """One course folder, validated file by file: its spec, its items and their documents
    (in the order read: lessons, quizzes, practices)."""

    course: CourseIn
    lines: Lines
    items: dict[str, Item] = field(default_factory=dict)
    documents: list[Stored] = field(default_factory=list)
    # kinds of item ("lesson", "quiz", "practice") of which a file failed: the course's
    # references to such items are not reported as unknown (the file is reported)
    broken: set[str] = field(default_factory=set)
    # exams are not outline items: only their documents
    exams: list[Stored] = field(default_factory=list)

    def add(self, item: Item, document: Stored) -> None:
        self.items[item.id] = item
        self.documents.append(document)


@dataclass(frozen=True, slots=True)
class CompetencyLink:
    """A lesson, practice or question naming a competency, and the course it belongs to
    (a bank question: each course whose quiz asks it)."""

    code: str
    content_id: str
    course_id: str


@dataclass(frozen=True, slots=True)
class OutsideRef:
    """A category, track or course a file names that the folder does not define: one
    another source loaded may be meant, so the catalog is asked before anything is
    written (``load.check_outside``)."""

    kind: Literal["category", "track", "course"]
    key: str
    lines: Lines
    path: tuple[Any, ...]
    category: str | None = None
    """Of a track a course names: the course's category, which the track must be in."""


@dataclass
class Bundle:
    """A read folder: the catalog's small lists, the courses, and every question."""

    categories: list[CategoryIn] = field(default_factory=list)
    tracks: list[TrackIn] = field(default_factory=list)
    achievements: list[AchievementIn] = field(default_factory=list)
    courses: list[CourseFolder] = field(default_factory=list)
    questions: dict[str, Stored] = field(default_factory=dict)
    competencies: list[CompetencyIn] = field(default_factory=list)
    competency_links: list[CompetencyLink] = field(default_factory=list)
    outside: list[OutsideRef] = field(default_factory=list)
    sql_practices: list[SqlPractice] = field(default_factory=list)


@dataclass(slots=True)
class CatalogEntry:
    """What PostgreSQL needs of one course item (the content index)."""

    content_id: str
    item_type: str
    module_id: str
    module_title: str
    module_order: int
    position: int
    title: str
    points: int
    required: bool
    duration_minutes: int | None
    preview: bool
    pass_percent: float | None = None
    scoring_policy: str | None = None


@dataclass(slots=True)
class BuiltCourse:
    """What the PostgreSQL catalog needs of one course: its card and its items."""

    spec: CourseIn
    slug: str
    document: Stored
    items: list[CatalogEntry]


@dataclass
class Built:
    """Everything one load writes: stored documents per collection, plus the catalog."""

    stored: dict[str, list[Stored]] = field(default_factory=dict)
    courses: list[BuiltCourse] = field(default_factory=list)
    categories: list[CategoryIn] = field(default_factory=list)
    tracks: list[TrackIn] = field(default_factory=list)
    achievements: list[AchievementIn] = field(default_factory=list)
    competencies: list[CompetencyIn] = field(default_factory=list)
    competency_links: list[CompetencyLink] = field(default_factory=list)
    owned: dict[str, list[str]] = field(default_factory=dict)
    """The keys of the PostgreSQL rows this folder defines, by the kind of their
    :class:`~syllabus.content.sources.OwnedTable`: what a prune keeps."""

    @property
    def documents(self) -> dict[str, list[VersionedContent]]:
        """Every document as a model object, decoded again: for tools and benchmarks that
        want models. A load writes the stored forms and never builds this."""
        return {
            collection: [document.model() for document in documents]
            for collection, documents in self.stored.items()
        }


def _options(options: list[Any]) -> list[QuestionOption]:
    return [QuestionOption(id=option.id, text=option.text) for option in options]


def build_question(question: QuestionIn) -> Stored:
    common: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "title": question.prompt[:300],  # questions have no title of their own
        "prompt": question.prompt,
        "category": question.category,
        "points": question.points,
        "explanation": question.explanation,
        "skills": question.skills,
        "competencies": question.competencies,
        "content_hash": PLACEHOLDER_HASH,
    }
    match question:
        case SingleChoiceIn():
            extra = {
                "options": _options(question.options),
                "key": SingleChoiceKey(correct=question.correct),
            }
        case MultipleChoiceIn():
            extra = {
                "options": _options(question.options),
                "key": MultipleChoiceKey(correct=question.correct),
            }
        case TrueFalseIn():
            extra = {"key": TrueFalseKey(correct=question.correct)}
        case ShortTextIn():
            extra = {"key": ShortTextKey(accepted=question.accepted)}
        case NumericIn():
            extra = {"key": NumericKey(value=question.value, tolerance=question.tolerance)}
        case OrderingIn():
            extra = {
                "options": _options(question.options),
                "key": OrderingKey(order=question.order),
            }
        case MatchingIn():
            extra = {
                "left": _options(question.left),
                "right": _options(question.right),
                "key": MatchingKey(pairs=question.pairs),
            }
    return store(Question(**common, **extra))


@dataclass(frozen=True, slots=True)
class LessonBody:
    """What the reader made of a lesson file besides its front matter."""

    source: str
    format: LessonFormat
    blocks: list[dict[str, Any]]
    imports: list[str]
    meta: dict[str, JsonValue]


def build_lesson(front: LessonFrontMatter, body: LessonBody, course_id: str) -> tuple[Item, Stored]:
    document = LessonContent(
        id=front.id,
        course_id=course_id,
        title=front.title,
        description=front.description,
        duration_minutes=front.duration_minutes,
        objectives=front.objectives,
        key_concepts=front.key_concepts,
        preview=front.preview,
        meta=body.meta,
        format=body.format,
        source=body.source,
        imports=body.imports,
        blocks=body.blocks,  # type: ignore[arg-type,unused-ignore]  # dicts, validated into blocks
        competencies=front.competencies,
        content_hash=PLACEHOLDER_HASH,
    )
    item = Item(front.id, "lesson", front.title, front.duration_minutes, preview=front.preview)
    return item, store(document)


def build_quiz(quiz: QuizIn, question_ids: list[str], course_id: str) -> tuple[Item, Stored]:
    """``question_ids``: the quiz's questions, inline ones replaced by their ids."""
    document = QuizContent(
        id=quiz.id,
        course_id=course_id,
        title=quiz.title,
        pass_percent=quiz.pass_percent,
        max_attempts=quiz.max_attempts,
        time_limit_seconds=quiz.time_limit_seconds,
        shuffle=quiz.shuffle,
        review_policy=quiz.review,
        scoring_policy=quiz.scoring,
        question_ids=question_ids,
        content_hash=PLACEHOLDER_HASH,
    )
    minutes = -(-quiz.time_limit_seconds // 60) if quiz.time_limit_seconds else None
    item = Item(
        quiz.id,
        "quiz",
        quiz.title,
        minutes,
        pass_percent=quiz.pass_percent,
        scoring_policy=quiz.scoring,
    )
    return item, store(document)


def build_exam(exam: ExamIn, pools: dict[int, list[str]], course_id: str) -> Stored:
    """``pools``: each auto task's question ids, inline questions replaced by their ids."""
    document = ExamContent(
        id=exam.id,
        course_id=course_id,
        title=exam.title,
        exam_type=exam.exam_type,
        subject=exam.subject,
        year=exam.year,
        duration_seconds=exam.duration_seconds,
        parts=[ExamPart(number=part.number, title=part.title) for part in exam.parts],
        tasks=[
            ExamTask(
                number=task.number,
                part=task.part,
                max_points=task.max_points,
                grading=task.grading,
                topic=task.topic,
                pool=pools.get(task.number, []),
                problems=[ExpertProblem(**problem.model_dump()) for problem in task.problems],
                criteria=[Criterion(**criterion.model_dump()) for criterion in task.criteria],
                competencies=task.competencies,
            )
            for task in exam.tasks
        ],
        scale=exam.scale,
        passing_score=exam.passing_score,
        max_attempts=exam.max_attempts,
        available_from=exam.available_from,
        available_until=exam.available_until,
        review_policy=exam.review,
        grading=exam.grading,
        adaptive=exam.adaptive,
        content_hash=PLACEHOLDER_HASH,
    )
    return store(document)


def build_practice(practice: PracticeIn, course_id: str) -> tuple[Item, Stored]:
    document = PracticeContent(
        id=practice.id,
        course_id=course_id,
        title=practice.title,
        instructions=practice.instructions,
        language=practice.language,
        editor=practice.editor,
        starter_code=practice.starter_code,
        reference_solution=practice.reference_solution,
        checks=[PracticeCheck(**check.model_dump()) for check in practice.checks],
        sample_data=None
        if practice.sample_data is None
        else SampleData.model_validate(practice.sample_data.model_dump()),
        competencies=practice.competencies,
        content_hash=PLACEHOLDER_HASH,
    )
    return Item(practice.id, "practice", practice.title), store(document)


def build_course(course: CourseFolder) -> BuiltCourse:
    """The course document (its outline copies each item's title and points) and its
    catalog entries, from the course's already built items."""
    spec = course.course
    points_by_type = {
        "lesson": spec.points.lesson,
        "quiz": spec.points.quiz,
        "practice": spec.points.practice,
    }
    lessons = [item_id for item_id, item in course.items.items() if item.type == "lesson"]
    required_lessons = (
        lessons if spec.completion.lessons == "all" else list(spec.completion.lessons)
    )
    required = set(required_lessons) | set(spec.completion.quizzes)
    modules: list[Module] = []
    entries: list[CatalogEntry] = []
    position = 0
    for module in sorted(spec.modules, key=lambda m: m.order):
        items: list[ModuleItem] = []
        for item_id in module.items:
            item = course.items[item_id]
            points = spec.points.items.get(item_id, points_by_type[item.type])
            items.append(
                ModuleItem(
                    id=item_id,
                    type=item.type,
                    title=item.title,
                    duration_minutes=item.duration_minutes,
                    points=points,
                    required=item_id in required,
                    preview=item.preview,
                )
            )
            entries.append(
                CatalogEntry(
                    content_id=item_id,
                    item_type=item.type,
                    module_id=module.id,
                    module_title=module.title,
                    module_order=module.order,
                    position=position,
                    title=item.title,
                    points=points,
                    required=item_id in required,
                    duration_minutes=item.duration_minutes,
                    preview=item.preview,
                    pass_percent=item.pass_percent,
                    scoring_policy=item.scoring_policy,
                )
            )
            position += 1
        modules.append(Module(id=module.id, title=module.title, order=module.order, items=items))
    slug = spec.id.removeprefix("course:")
    document = CourseContent(
        id=spec.id,
        slug=slug,
        title=spec.title,
        description=spec.description,
        level=spec.level,
        category=spec.category,
        track=spec.track,
        status=spec.status,
        price_cents=spec.price_cents,
        modules=modules,
        completion=CompletionRule(
            required_lessons=required_lessons, required_quizzes=list(spec.completion.quizzes)
        ),
        content_hash=PLACEHOLDER_HASH,
    )
    return BuiltCourse(spec, slug, store(document), entries)


def build(bundle: Bundle) -> Built:
    """Build the course documents and gather every stored document by collection (in
    the order a load has always written them: courses, lessons, quizzes, questions,
    practices; then exams)."""
    built = Built(
        categories=bundle.categories,
        tracks=bundle.tracks,
        achievements=bundle.achievements,
        competencies=bundle.competencies,
        competency_links=bundle.competency_links,
        owned={
            "category": [category.slug for category in bundle.categories],
            "track": [track.slug for track in bundle.tracks],
            "achievement": [achievement.code for achievement in bundle.achievements],
            "competency": [competency.code for competency in bundle.competencies],
        },
    )
    kinds = (CourseContent, LessonContent, QuizContent, Question, PracticeContent, ExamContent)
    for document_class in kinds:
        built.stored[document_class.Settings.name] = []
    for course in bundle.courses:
        built_course = build_course(course)
        built.courses.append(built_course)
        built.stored[built_course.document.collection].append(built_course.document)
        for document in (*course.documents, *course.exams):
            built.stored[document.collection].append(document)
    built.stored[Question.Settings.name] = list(bundle.questions.values())
    return built
