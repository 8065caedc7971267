"""From a validated bundle to the documents MongoDB stores, each with its content hash.

The hash is the SHA-256 of the document's canonical JSON (sorted keys, no whitespace),
leaving out what the loader itself sets (version, hash, load time) and the publication
status (compared on its own), so identical authored content always hashes the same.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from syllabus.content.documents import (
    CompletionRule,
    CourseContent,
    LessonContent,
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
    ShortTextKey,
    SingleChoiceKey,
    TrueFalseKey,
    VersionedContent,
)
from syllabus.content.loader.formats import (
    AchievementIn,
    CategoryIn,
    CourseIn,
    MatchingIn,
    MultipleChoiceIn,
    NumericIn,
    OrderingIn,
    QuestionIn,
    ShortTextIn,
    SingleChoiceIn,
    TrackIn,
    TrueFalseIn,
)
from syllabus.content.loader.read import Bundle, Course

PLACEHOLDER_HASH = "0" * 64
NOT_HASHED = frozenset({"id", "revision_id", "version", "content_hash", "loaded_at", "status"})


def content_hash(document: VersionedContent) -> str:
    data = document.model_dump(mode="json", exclude=set(NOT_HASHED))
    data["_id"] = document.id
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed(document: VersionedContent) -> VersionedContent:
    document.content_hash = content_hash(document)
    return document


@dataclass
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


@dataclass
class BuiltCourse:
    spec: CourseIn
    document: CourseContent
    items: list[CatalogEntry]


@dataclass
class Built:
    """Everything one load writes: documents per collection, plus the catalog."""

    documents: dict[str, list[VersionedContent]] = field(default_factory=dict)
    courses: list[BuiltCourse] = field(default_factory=list)
    categories: list[CategoryIn] = field(default_factory=list)
    tracks: list[TrackIn] = field(default_factory=list)
    achievements: list[AchievementIn] = field(default_factory=list)


def _options(options: list[Any]) -> list[QuestionOption]:
    return [QuestionOption(id=option.id, text=option.text) for option in options]


def build_question(question: QuestionIn) -> Question:
    common: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "title": question.prompt[:300],  # questions have no title of their own
        "prompt": question.prompt,
        "category": question.category,
        "points": question.points,
        "explanation": question.explanation,
        "skills": question.skills,
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
    return Question(**common, **extra)


def build_course(course: Course) -> tuple[BuiltCourse, list[VersionedContent]]:
    spec = course.course
    points_by_type = {
        "lesson": spec.points.lesson,
        "quiz": spec.points.quiz,
        "practice": spec.points.practice,
    }
    lessons = {lesson.meta.id: lesson for lesson in course.lessons}
    quizzes = {quiz.id: quiz for quiz, _ in course.quizzes}
    practices = {practice.id: practice for practice, _ in course.practices}
    required_lessons = (
        list(lessons) if spec.completion.lessons == "all" else list(spec.completion.lessons)
    )
    required = set(required_lessons) | set(spec.completion.quizzes)
    modules: list[Module] = []
    entries: list[CatalogEntry] = []
    position = 0
    for module in sorted(spec.modules, key=lambda m: m.order):
        items: list[ModuleItem] = []
        for item_id in module.items:
            item_type = item_id.split(":", 1)[0]
            duration: int | None = None
            preview = False
            if item_type == "lesson":
                meta = lessons[item_id].meta
                title, duration, preview = meta.title, meta.duration_minutes, meta.preview
            elif item_type == "quiz":
                quiz = quizzes[item_id]
                title = quiz.title
                if quiz.time_limit_seconds:
                    duration = -(-quiz.time_limit_seconds // 60)
            else:
                title = practices[item_id].title
            points = spec.points.items.get(item_id, points_by_type[item_type])
            items.append(
                ModuleItem(
                    id=item_id,
                    type=item_type,
                    title=title,
                    duration_minutes=duration,
                    points=points,
                    required=item_id in required,
                    preview=preview,
                )
            )
            entries.append(
                CatalogEntry(
                    content_id=item_id,
                    item_type=item_type,
                    module_id=module.id,
                    module_title=module.title,
                    module_order=module.order,
                    position=position,
                    title=title,
                    points=points,
                    required=item_id in required,
                    duration_minutes=duration,
                    preview=preview,
                    pass_percent=quizzes[item_id].pass_percent if item_type == "quiz" else None,
                    scoring_policy=quizzes[item_id].scoring if item_type == "quiz" else None,
                )
            )
            position += 1
        modules.append(Module(id=module.id, title=module.title, order=module.order, items=items))
    document = CourseContent(
        id=spec.id,
        slug=spec.id.removeprefix("course:"),
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
    children: list[VersionedContent] = [
        LessonContent(
            id=lesson.meta.id,
            course_id=spec.id,
            title=lesson.meta.title,
            duration_minutes=lesson.meta.duration_minutes,
            objectives=lesson.meta.objectives,
            key_concepts=lesson.meta.key_concepts,
            preview=lesson.meta.preview,
            source=lesson.source,
            blocks=lesson.blocks,
            content_hash=PLACEHOLDER_HASH,
        )
        for lesson in course.lessons
    ]
    children += [
        QuizContent(
            id=quiz.id,
            course_id=spec.id,
            title=quiz.title,
            pass_percent=quiz.pass_percent,
            max_attempts=quiz.max_attempts,
            time_limit_seconds=quiz.time_limit_seconds,
            shuffle=quiz.shuffle,
            review_policy=quiz.review,
            scoring_policy=quiz.scoring,
            question_ids=[str(q) for q in quiz.questions],
            content_hash=PLACEHOLDER_HASH,
        )
        for quiz, _ in course.quizzes
    ]
    children += [
        PracticeContent(
            id=practice.id,
            course_id=spec.id,
            title=practice.title,
            instructions=practice.instructions,
            language=practice.language,
            editor=practice.editor,
            starter_code=practice.starter_code,
            reference_solution=practice.reference_solution,
            checks=[PracticeCheck(**check.model_dump()) for check in practice.checks],
            content_hash=PLACEHOLDER_HASH,
        )
        for practice, _ in course.practices
    ]
    return BuiltCourse(spec, hashed(document), entries), [hashed(child) for child in children]


def build(bundle: Bundle) -> Built:
    built = Built(
        categories=bundle.categories, tracks=bundle.tracks, achievements=bundle.achievements
    )
    for document_class in (CourseContent, LessonContent, QuizContent, Question, PracticeContent):
        built.documents[document_class.Settings.name] = []
    for course in bundle.courses:
        built_course, children = build_course(course)
        built.courses.append(built_course)
        built.documents[CourseContent.Settings.name].append(built_course.document)
        for child in children:
            built.documents[type(child).Settings.name].append(child)
    built.documents[Question.Settings.name] = [
        hashed(build_question(question)) for question in bundle.questions.values()
    ]
    return built
