"""Reading content for the API: documents come from MongoDB, and a lesson or quiz is
handed out only once the catalog says the course is visible and ``access`` says the
caller may open it (PostgreSQL). The one place that touches answer keys on the read
path, and only to leave them out."""

import hashlib
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from syllabus.access import service as access
from syllabus.catalog import service as catalog
from syllabus.catalog.repository import CourseRow
from syllabus.content import repository
from syllabus.content.cache import VersionCache
from syllabus.content.documents import (
    ContentVersion,
    CourseContent,
    ExamContent,
    LessonContent,
    PracticeContent,
    Question,
    QuizContent,
    quiz_hash,
)
from syllabus.content.schemas import (
    LessonPublic,
    OptionPublic,
    PracticePublic,
    QuestionPublic,
    QuizPublic,
)
from syllabus.errors import NotFound
from syllabus.identity import service as identity
from syllabus.identity.deps import BEARER
from syllabus.identity.models import User

DEFAULT_CACHE_ENTRIES = 512
OUTLINE_FIELDS = {"title": 1, "level": 1, "version": 1, "content_hash": 1, "modules": 1}


OutlineVersion = tuple[int, str | None]
"""A course's ``(version, content_hash)`` as the catalog (PostgreSQL) knows it."""
ContentKey = tuple[str, int, str | None]
"""(content id, version, content_hash) as ``content_index`` (PostgreSQL) knows them."""


@dataclass(frozen=True, slots=True)
class OutlineJson:
    """A course outline as JSON bytes with a gap after each item's public fields, so a
    reader splices in its own fields per item and its own ``progress`` without building
    or encoding the shared part again: ``parts[i]`` ends just before item ``i``'s closing
    brace, ``parts[-1]`` ends with ``"progress":``."""

    parts: tuple[bytes, ...]
    item_ids: tuple[str, ...]
    """The items in outline order, one per gap."""
    index: Mapping[str, int]
    """Each item's place in ``item_ids``."""
    etag: str

    def render(self, fields: Sequence[bytes], progress: bytes) -> bytes:
        """The whole outline: ``fields[i]`` (``,"key":value`` pairs) closes item ``i``."""
        chunks = [b""] * (2 * len(self.parts) + 1)
        chunks[0:-3:2] = self.parts[:-1]  # slice assignment: no Python loop per item
        chunks[1:-2:2] = fields
        chunks[-3:] = (self.parts[-1], progress, b"}")
        return b"".join(chunks)


def encode_outline(outline: Mapping[str, Any], etag: str) -> OutlineJson:
    """Encode the shared outline once, cut after each item's public fields."""
    parts: list[bytes] = []
    ids: list[str] = []
    head = {key: outline[key] for key in ("course_id", "title", "level", "version")}
    pending = to_json(head)[:-1] + b',"modules":['
    for m, module in enumerate(outline["modules"]):
        public = {key: module[key] for key in ("id", "title", "order")}
        pending += (b"," if m else b"") + to_json(public)[:-1] + b',"items":['
        for i, item in enumerate(module["items"]):
            parts.append(pending + (b"," if i else b"") + to_json(item)[:-1])
            ids.append(item["id"])
            pending = b"}"
        pending += b"]}"
    parts.append(pending + b'],"progress":')
    index = {item_id: place for place, item_id in enumerate(ids)}
    return OutlineJson(parts=tuple(parts), item_ids=tuple(ids), index=index, etag=etag)


outlines: VersionCache[ContentKey, OutlineJson] = VersionCache(DEFAULT_CACHE_ENTRIES)
"""Course outlines by (course id, version, hash), as encoded bytes: read-only, shared by
every request of the process (content/cache.py)."""
lessons: VersionCache[ContentKey, tuple[bytes, str]] = VersionCache(DEFAULT_CACHE_ENTRIES)
"""A lesson's public JSON and ETag source, by its key: the same for every viewer."""
quizzes: VersionCache[ContentKey, tuple[bytes, str]] = VersionCache(DEFAULT_CACHE_ENTRIES)
"""A quiz's public JSON (its questions included) and ETag source, by its key, whose hash
covers the questions (:func:`~syllabus.content.documents.quiz_hash`)."""
CACHES = (outlines, lessons, quizzes)
"""Each bounded by ``SYLLABUS_CONTENT_CACHE_ENTRIES`` (main sizes them at start-up)."""


async def _read_outline(course_id: str) -> tuple[dict[str, Any], tuple[int, str | None]]:
    """One projected read and no model validation (the loader validated the document
    when it wrote it): the outline shaped like :class:`CourseOutline`, and the
    ``(version, content_hash)`` MongoDB holds."""
    course = await CourseContent.get_pymongo_collection().find_one(
        {"_id": course_id}, OUTLINE_FIELDS
    )
    if course is None:
        raise NotFound(f"no course {course_id}")
    outline = {
        "course_id": course["_id"],
        "title": course["title"],
        "level": course["level"],
        "version": course["version"],
        "modules": [
            {"id": m["id"], "title": m["title"], "order": m["order"], "items": m["items"]}
            for m in course["modules"]
        ],
    }
    return outline, (course["version"], course.get("content_hash"))


def _etag(version: tuple[int, str | None]) -> str:
    return f"{version[0]}.{version[1]}"


async def course_outline(course_id: str) -> tuple[dict[str, Any], str]:
    """A course's modules and items, shaped like :class:`CourseOutline`, and its ETag
    source, read from MongoDB (the hot route uses :func:`outline_json`)."""
    outline, version = await _read_outline(course_id)
    return outline, _etag(version)


async def outline_json(course_id: str, *, expected: OutlineVersion) -> OutlineJson:
    """The outline encoded once (:class:`OutlineJson`), for a caller whose PostgreSQL
    query found the course at ``expected``: from the process's cache when warm (no
    MongoDB), else one read, kept only when MongoDB holds exactly that version, so
    nothing older than PostgreSQL's catalog is ever served. Shared: never changed."""
    key = (course_id, *expected)
    if (cached := outlines.get(key)) is not None:
        return cached
    outline, version = await _read_outline(course_id)
    answer = encode_outline(outline, _etag(version))
    if version == expected:
        outlines.put(key, answer)  # only what MongoDB holds for exactly that version
    return answer


def missing(kind: str, content_id: str) -> NotFound:
    """The one 404 for a lesson or quiz that is absent, archived, or in a course the
    caller may not see: the three read exactly alike (the body echoes only the id the
    caller sent), so a 404 never confirms that hidden content exists."""
    return NotFound(f"no {kind} {content_id}")


async def lesson_document(lesson_id: str) -> LessonContent:
    lesson = await LessonContent.get(lesson_id)
    if lesson is None or lesson.status == "archived":
        raise missing("lesson", lesson_id)
    return lesson


def lesson_public(lesson: LessonContent) -> LessonPublic:
    # Copy only the public fields: the schema forbids anything else, by design.
    return LessonPublic.model_validate(lesson.model_dump(include=set(LessonPublic.model_fields)))


async def quiz_document(quiz_id: str) -> QuizContent:
    quiz = await QuizContent.get(quiz_id)
    if quiz is None or quiz.status == "archived":
        raise missing("quiz", quiz_id)
    return quiz


def _presentation_order(question_id: str, options: list[OptionPublic]) -> list[OptionPublic]:
    """A stable order that does not follow the authored one, so an ordering question's
    answer (or a matching question's pairs) cannot be read off the option list."""
    return sorted(
        options, key=lambda o: hashlib.sha256(f"{question_id}/{o.id}".encode()).hexdigest()
    )


def question_public(question: Mapping[str, Any]) -> QuestionPublic:
    """The learner's view of a stored question (a document or a version snapshot)."""

    def options(items: list[Any]) -> list[OptionPublic]:
        return [OptionPublic(id=item["id"], text=item["text"]) for item in items]

    kind = question["type"]
    question_id = question.get("_id") or question["id"]
    public = QuestionPublic(
        id=question_id, type=kind, prompt=question["prompt"], points=question["points"]
    )
    if kind in ("single_choice", "multiple_choice"):
        public.options = options(question["options"])
    elif kind == "ordering":
        public.options = _presentation_order(question_id, options(question["options"]))
    elif kind == "matching":
        public.left = options(question["left"])
        public.right = _presentation_order(question_id, options(question["right"]))
    return public


async def current_versions(ids: list[str]) -> dict[str, int]:
    """The current version of each question (one query)."""
    cursor = Question.get_pymongo_collection().find({"_id": {"$in": ids}}, {"version": 1})
    return {row["_id"]: int(row["version"]) async for row in cursor}


async def current_competencies(ids: list[str]) -> dict[str, list[str]]:
    """The competency codes each question names in its current version (one query)."""
    cursor = Question.get_pymongo_collection().find({"_id": {"$in": ids}}, {"competencies": 1})
    return {row["_id"]: list(row.get("competencies") or []) async for row in cursor}


async def snapshots(refs: Collection[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Exact versions of content documents, from the immutable version history, keyed by
    (content id, version): what a learner saw, whatever changed since, even when two
    refs name different versions of one document. ONE query, and one batch whatever
    the number of documents (no getMore)."""
    keys = [f"{content_id}@{version}" for content_id, version in refs]
    cursor = ContentVersion.get_pymongo_collection().find(
        {"_id": {"$in": keys}}, batch_size=len(keys) + 1
    )
    return {(row["content_id"], row["version"]): row["document"] async for row in cursor}


async def quiz_with_questions(quiz: QuizContent) -> tuple[QuizPublic, str]:
    """The learner's view of a quiz (one query for all its questions) and its ETag source."""
    found = {
        question.id: question
        async for question in Question.find({"_id": {"$in": quiz.question_ids}})
    }
    questions = [found[question_id] for question_id in quiz.question_ids if question_id in found]
    public = QuizPublic(
        id=quiz.id,
        course_id=quiz.course_id,
        title=quiz.title,
        version=quiz.version,
        pass_percent=quiz.pass_percent,
        max_attempts=quiz.max_attempts,
        time_limit_seconds=quiz.time_limit_seconds,
        shuffle=quiz.shuffle,
        review_policy=quiz.review_policy,
        scoring_policy=quiz.scoring_policy,
        max_score=sum(question.points for question in questions),
        questions=[question_public(question.model_dump(by_alias=True)) for question in questions],
    )
    return public, quiz_hash(quiz.content_hash, [q.content_hash for q in questions])


async def open_lesson(
    *, session: AsyncSession, viewer: User | None, lesson_id: str
) -> tuple[LessonPublic, str]:
    """A lesson of a visible course, for a viewer who may open it (previews: anyone who
    sees the course), and its ETag source."""
    lesson = await lesson_document(lesson_id)
    course = await catalog.course_if_visible(
        session=session, viewer=viewer, course_ref=lesson.course_id
    )
    if course is None:
        raise missing("lesson", lesson_id)
    if not lesson.preview:
        await access.require_open(session=session, viewer=viewer, course=course, what="lesson")
    return lesson_public(lesson), f"{lesson.version}.{lesson.content_hash}"


async def lesson_json(lesson_id: str, *, expected: tuple[int, str | None]) -> tuple[bytes, str]:
    """A lesson's public JSON and its ETag source, for a caller whose PostgreSQL query
    found it current at ``expected`` (``content_index``'s version and hash): from the
    process's cache when warm, else MongoDB (kept only when MongoDB holds exactly that
    key, so nothing older than PostgreSQL's catalog is ever served)."""
    key = (lesson_id, *expected)
    if (cached := lessons.get(key)) is not None:
        return cached
    lesson = await lesson_document(lesson_id)
    answer = (
        lesson_public(lesson).model_dump_json().encode(),
        f"{lesson.version}.{lesson.content_hash}",
    )
    if expected[1] is not None and (lesson.version, lesson.content_hash) == expected:
        lessons.put(key, answer)
    return answer


async def quiz_json(quiz_id: str, *, expected: tuple[int, str | None]) -> tuple[bytes, str]:
    """Like :func:`lesson_json`, for a quiz with its questions: cached only when the hash
    recomputed from MongoDB's quiz and questions is the one PostgreSQL reported."""
    key = (quiz_id, *expected)
    if (cached := quizzes.get(key)) is not None:
        return cached
    quiz = await quiz_document(quiz_id)
    public, digest = await quiz_with_questions(quiz)
    answer = public.model_dump_json().encode(), f"{quiz.version}.{digest}"
    if expected[1] is not None and (quiz.version, digest) == expected:
        quizzes.put(key, answer)
    return answer


async def read_quiz(
    *, connection: AsyncConnection, viewer_id: uuid.UUID | None, quiz_id: str
) -> tuple[bytes, str]:
    """``GET /quizzes/{id}``: one PostgreSQL query (the catalog's key, visibility, the
    viewer's role and ``access``'s facts) and, on a warm cache, no MongoDB."""
    state = await repository.quiz_state(connection, quiz_id=quiz_id, viewer_id=viewer_id)
    if state is not None and viewer_id is not None and state.viewer_role is None:
        raise identity.TokenRejected("access token is invalid or expired", headers=BEARER)
    if state is None or not catalog.visible_to(state.course_status, state.viewer_role):
        raise missing("quiz", quiz_id)
    access.refuse_quiz(
        paid=state.paid,
        role=state.viewer_role,
        entitled=state.entitled,
        enrolled=state.enrolled,
        course=state.course,
    )
    return await quiz_json(quiz_id, expected=state.content_key)


async def visible_quiz(
    *, session: AsyncSession, viewer: User | None, quiz_id: str
) -> tuple[QuizContent, CourseRow]:
    """A current quiz of a course the viewer may see, with that course; otherwise the
    one 404 of :func:`missing` (reading it and starting an attempt both ask here)."""
    quiz = await quiz_document(quiz_id)
    course = await catalog.course_if_visible(
        session=session, viewer=viewer, course_ref=quiz.course_id
    )
    if course is None:
        raise missing("quiz", quiz_id)
    return quiz, course


def bound_database() -> AsyncDatabase[dict[str, object]]:
    """The MongoDB database the content documents are bound to (Beanie's binding, made
    at start-up): for work that has no request to take it from, such as a hook."""
    return PracticeContent.get_pymongo_collection().database


async def practice_document(practice_id: str) -> PracticeContent:
    practice = await PracticeContent.get(practice_id)
    if practice is None or practice.status == "archived":
        raise missing("practice", practice_id)
    return practice


async def visible_practice(
    *, session: AsyncSession, viewer: User | None, practice_id: str
) -> tuple[PracticeContent, CourseRow]:
    """A current practice of a course the viewer may see and open (paid: an entitlement),
    with that course; otherwise the one 404 of :func:`missing` (or access's refusal)."""
    practice = await practice_document(practice_id)
    course = await catalog.course_if_visible(
        session=session, viewer=viewer, course_ref=practice.course_id
    )
    if course is None:
        raise missing("practice", practice_id)
    await access.require_open(session=session, viewer=viewer, course=course, what="practice")
    return practice, course


async def open_practice(
    *, session: AsyncSession, viewer: User | None, practice_id: str
) -> tuple[PracticePublic, str]:
    """The learner's view of a practice (copied field by field: the schema has no place
    for the reference solution or the checks) and its ETag source."""
    practice, _ = await visible_practice(session=session, viewer=viewer, practice_id=practice_id)
    public = PracticePublic.model_validate(
        practice.model_dump(include=set(PracticePublic.model_fields))
    )
    return public, f"{practice.version}.{practice.content_hash}"


async def exam_document(exam_id: str) -> ExamContent:
    exam = await ExamContent.get(exam_id)
    if exam is None or exam.status == "archived":
        raise missing("exam", exam_id)
    return exam


async def visible_exam(
    *, session: AsyncSession, viewer: User | None, exam_id: str
) -> tuple[ExamContent, CourseRow]:
    """A current exam of a course the viewer may see, with that course; otherwise the
    one 404 of :func:`missing`."""
    exam = await exam_document(exam_id)
    course = await catalog.course_if_visible(
        session=session, viewer=viewer, course_ref=exam.course_id
    )
    if course is None:
        raise missing("exam", exam_id)
    return exam, course


async def exams_of(course_ids: Collection[str] | None) -> list[ExamContent]:
    """The current exams of these courses (content ids; ``None``: of every course), by
    id: one query."""
    query: dict[str, Any] = {"status": {"$ne": "archived"}}
    if course_ids is not None:
        query["course_id"] = {"$in": list(course_ids)}
    return await ExamContent.find(query).sort("_id").to_list()
