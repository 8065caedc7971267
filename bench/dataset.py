"""The one generated dataset every benchmark of the suite runs against.

Content is written as an authoring folder and loaded through the content loader (the
code path authors use): COURSES full courses of LESSONS lessons and QUIZZES quizzes of
QUESTIONS questions (all seven types), plus small catalog-only courses (one lesson each,
titles drawn from a word list) up to CATALOG courses in all, for catalog search.
PostgreSQL rows that learners create are written with COPY: LEARNERS learners with two
enrollments each in the full courses, PROGRESS lesson_progress rows, ATTEMPTS submitted
quiz attempts with answer snapshots, an activity log matching both, and a quarter of the
enrollments completed. Every step is timed."""

import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import asyncpg

from bench.harness import MONGO_DB
from syllabus.config import to_asyncpg_url
from syllabus.content.documents import DOCUMENT_MODELS, QuestionType
from syllabus.content.loader.run import load_folder
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.kit.ids import uuid7
from syllabus.main import wire

PARAGRAPH = (
    "Resources are named with nouns and manipulated with the uniform interface of HTTP. "
    "A representation carries the state; links tell the client what it can do next. "
) * 6
TYPES: tuple[str, ...] = get_args(QuestionType)
# catalog titles: adjective + topic + noun, so any one word matches a small share of courses
ADJECTIVES = ["Practical", "Modern", "Applied", "Essential", "Advanced"]
TOPICS = [f"topic{n}" for n in range(100)] + ["databases", "kubernetes", "statistics"]
NOUNS = ("Basics", "Workshop", "Bootcamp", "Deep Dive", "Patterns", "Recipes")


@dataclass(frozen=True)
class Sizes:
    courses: int = 200
    lessons: int = 40
    quizzes: int = 5
    questions: int = 20
    catalog: int = 10_000
    learners: int = 20_000
    progress: int = 1_000_000
    attempts: int = 100_000
    # the scenarios' own sizes: learners submitting per round, the content-load folder,
    # and the folders whose load memory is compared
    submitters: int = 400
    load_lessons: int = 500
    memory_lessons: tuple[int, ...] = (40, 500, 5000)
    # exam day (bench/exam_day.py): this many learners start within the window
    exam_starters: int = 1000
    exam_window_seconds: float = 10.0


QUICK = Sizes(
    courses=20,
    lessons=10,
    quizzes=2,
    questions=20,
    catalog=500,
    learners=500,
    progress=10_000,
    attempts=2_000,
    submitters=30,
    load_lessons=40,
    memory_lessons=(40, 200),
    # 20 starts a second: what the quick dataset's 20 exams and a loaded machine carry
    exam_starters=60,
    exam_window_seconds=3.0,
)


@dataclass
class Dataset:
    postgres_url: str
    mongo_url: str
    sizes: Sizes
    # (user id, course slug): every enrollment, in the full courses
    enrolled: list[tuple[str, str]]
    lessons: dict[str, list[str]]  # course slug -> lesson ids in order
    quizzes: dict[str, list[str]]  # course slug -> quiz ids in order
    timings: dict[str, float] = field(default_factory=dict)


def question(quiz_slug: str, n: int) -> tuple[dict[str, Any], Any]:
    """Question ``n`` of a quiz, of each type in turn, and an answer that is fully right."""
    kind = TYPES[n % len(TYPES)]
    base: dict[str, Any] = {
        "id": f"question:{quiz_slug}-{n}",
        "type": kind,
        "prompt": f"Q{n}?",
        "points": 1,
    }
    opts = [{"id": i, "text": f"Option {i}"} for i in "abcd"]
    shapes: dict[str, tuple[dict[str, Any], Any]] = {
        "single_choice": ({"options": opts, "correct": "b"}, "b"),
        "multiple_choice": ({"options": opts, "correct": ["a", "c"]}, ["a", "c"]),
        "true_false": ({"correct": True}, True),
        "short_text": ({"accepted": ["Производная", "derivative"]}, "  производная "),
        "numeric": ({"value": 0.25, "tolerance": 0.001}, 0.2505),
        "ordering": ({"options": opts, "order": ["c", "a", "d", "b"]}, ["c", "a", "d", "b"]),
        "matching": (
            {"left": opts[:3], "right": opts[1:], "pairs": {"a": "b", "b": "c", "c": "d"}},
            {"a": "b", "b": "c", "c": "d"},
        ),
    }
    extra, answer = shapes[kind]
    return {**base, **extra}, answer


def right_answers(quiz_id: str, questions: int) -> list[dict[str, Any]]:
    slug = quiz_id.removeprefix("quiz:")
    return [
        {"question_id": q["id"], "answer": a}
        for q, a in (question(slug, n) for n in range(questions))
    ]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def exam_id(slug: str) -> str:
    """The exam of a full course (bench/exam_day.py)."""
    return f"exam:{slug}-exam"


def _exam(folder: Path, slug: str, quiz_slug: str, questions: int) -> None:
    """An exam drawn from the course's first quiz's questions: task k draws question 2k or
    2k + 1, and a last task graded by experts; an hour, so no deadline falls in a run."""
    tasks: list[dict[str, Any]] = [
        {
            "number": k + 1,
            "part": 1,
            "max_points": 1,
            "grading": "auto",
            "pool": [f"question:{quiz_slug}-{2 * k}", f"question:{quiz_slug}-{2 * k + 1}"],
        }
        for k in range(questions // 2)
    ]
    tasks.append(
        {
            "number": len(tasks) + 1,
            "part": 1,
            "max_points": 2,
            "grading": "expert",
            "problems": [{"id": "a", "prompt": "Explain.", "answer": "Because."}],
            "criteria": [
                {"points": 2, "description": "Right"},
                {"points": 1, "description": "Half"},
            ],
        }
    )
    _write_json(
        folder / "exams" / f"{slug}-exam.json",
        {
            "id": exam_id(slug),
            "title": "Exam day",
            "exam_type": "custom",
            "subject": "bench",
            "duration_seconds": 3600,
            "parts": [{"number": 1, "title": "All"}],
            "tasks": tasks,
        },
    )


def _course(
    root: Path,
    slug: str,
    *,
    title: str,
    lessons: int,
    quizzes: int,
    questions: int,
    exam: bool = False,
) -> tuple[list[str], list[str]]:
    folder = root / "courses" / slug
    (folder / "lessons").mkdir(parents=True)
    lesson_ids, quiz_ids = [], []
    for n in range(lessons):
        lesson_id = f"lesson:{slug}-{n}"
        lesson_ids.append(lesson_id)
        (folder / "lessons" / f"{n:03}.mdx").write_text(
            f"---\nid: {lesson_id}\ntitle: Lesson {n}\nduration_minutes: 9\n"
            f"objectives: [Understand part {n}]\n---\n\n# Lesson {n}\n\n{PARAGRAPH}\n\n"
            '<Callout type="tip">\nKeep URLs stable.\n</Callout>\n\n'
            "```http\nGET /courses HTTP/1.1\n```\n",
            encoding="utf-8",
        )
    if quizzes:
        (folder / "quizzes").mkdir()
    for k in range(quizzes):
        quiz_slug = f"{slug}-q{k}"
        quiz_ids.append(f"quiz:{quiz_slug}")
        _write_json(
            folder / "quizzes" / f"{k:02}.json",
            {
                "id": f"quiz:{quiz_slug}",
                "title": f"Check {k}",
                "questions": [question(quiz_slug, n)[0] for n in range(questions)],
            },
        )
    if exam and quizzes and questions >= 2:
        (folder / "exams").mkdir()
        _exam(folder, slug, f"{slug}-q0", questions)
    _write_json(
        folder / "course.json",
        {
            "id": f"course:{slug}",
            "title": title,
            "description": f"{title}: a generated course for the benchmarks.",
            "level": "Beginner",
            "language": "en",
            "category": "bench",
            "status": "published",
            "modules": [
                {"id": f"module:{slug}", "title": "All", "order": 1, "items": lesson_ids + quiz_ids}
            ],
        },
    )
    return lesson_ids, quiz_ids


def generate(
    root: Path,
    *,
    lessons: int,
    per_course: int = 50,
    quizzes: int = 1,
    questions: int = 5,
    catalog: int = 0,
    exams: bool = False,
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """An authoring folder: ``lessons`` lessons in courses of ``per_course``, each with
    ``quizzes`` quizzes (and, with ``exams``, an exam), then one-lesson courses up to
    ``catalog`` courses in all."""
    (root / "courses").mkdir(parents=True)
    _write_json(root / "categories.json", [{"slug": "bench", "name": "Benchmark"}])
    lesson_map: dict[str, list[str]] = {}
    quiz_map: dict[str, list[str]] = {}
    full = -(-lessons // per_course)
    for c in range(full):
        slug = f"bench-{c}"
        lesson_map[slug], quiz_map[slug] = _course(
            root,
            slug,
            title=f"Benchmark course {c}",
            lessons=min(per_course, lessons - c * per_course),
            quizzes=quizzes,
            questions=questions,
            exam=exams,
        )
    rng = random.Random(3)
    for c in range(max(0, catalog - full)):
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(TOPICS)} {rng.choice(NOUNS)}"
        _course(root, f"catalog-{c}", title=title, lessons=1, quizzes=0, questions=0)
    return lesson_map, quiz_map


async def load(folder: Path, postgres_url: str, mongo_url: str) -> None:
    """``folder`` through the content loader, as ``syllabus content load`` does."""
    wire()
    engine = create_engine(to_asyncpg_url(postgres_url), pool_size=2, max_overflow=0)
    client = create_client(mongo_url)
    try:
        await init_documents(client[MONGO_DB], DOCUMENT_MODELS)
        result = await load_folder(
            folder, database=client[MONGO_DB], sessionmaker=create_sessionmaker(engine)
        )
        assert result.ok, result.problems
    finally:
        await client.close()
        await engine.dispose()


async def _learners(
    connection: asyncpg.Connection, sizes: Sizes, lessons: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """Users, two enrollments each, and lesson_progress, by COPY."""
    courses = {
        row["slug"]: row["id"]
        for row in await connection.fetch(
            "SELECT id, slug FROM courses WHERE slug = ANY($1::text[])", list(lessons)
        )
    }
    slugs = sorted(lessons)
    users = [(uuid7(), f"bench-{n}@example.org", f"Learner {n}") for n in range(sizes.learners)]
    await connection.copy_records_to_table("users", records=users, columns=["id", "email", "name"])
    enrollments, enrolled = [], []
    for n, (user_id, _, _) in enumerate(users):
        for slug in (slugs[n % len(slugs)], slugs[(n * 7 + 3) % len(slugs)]):
            enrollments.append((uuid7(), user_id, courses[slug], "active"))
            enrolled.append((str(user_id), slug))
    await connection.copy_records_to_table(
        "enrollments", records=enrollments, columns=["id", "user_id", "course_id", "status"]
    )
    per_enrollment = max(1, sizes.progress // len(enrollments))
    now = datetime.now(UTC)
    rows = []
    for (_, user_id, course_id, _), (_, slug) in zip(enrollments, enrolled, strict=True):
        ids = lessons[slug][:per_enrollment]
        for position, lesson in enumerate(ids):
            completed = position < len(ids) - 1
            rows.append(
                (
                    uuid7(),
                    user_id,
                    course_id,
                    lesson,
                    "completed" if completed else "started",
                    now - timedelta(minutes=position + 30),
                    now - timedelta(minutes=position) if completed else None,
                )
            )
    await connection.copy_records_to_table(
        "lesson_progress",
        records=rows,
        columns=[
            "id",
            "user_id",
            "course_id",
            "lesson_content_id",
            "status",
            "started_at",
            "completed_at",
        ],
    )
    return enrolled


async def _attempts_and_activity(
    connection: asyncpg.Connection, sizes: Sizes, quizzes: dict[str, list[str]]
) -> None:
    """Submitted attempts with answer snapshots, an activity log in time order for every
    progress row and attempt, and a quarter of the enrollments completed."""
    rng = random.Random(11)
    rows_ = await connection.fetch(
        "SELECT e.user_id, e.course_id, c.slug FROM enrollments e JOIN courses c "
        "ON c.id = e.course_id"
    )
    targets = [
        (row["user_id"], row["course_id"], quiz) for row in rows_ for quiz in quizzes[row["slug"]]
    ]
    rng.shuffle(targets)
    now = datetime.now(UTC)
    rows = []
    counters: dict[tuple[Any, str], int] = {}
    for n in range(sizes.attempts):
        user_id, course_id, quiz = targets[n % len(targets)]
        counters[(user_id, quiz)] = counters.get((user_id, quiz), 0) + 1
        right = [rng.random() < 0.7 for _ in range(sizes.questions)]
        score = float(sum(right))
        when = now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440))
        details = {
            "questions": [
                {"question_id": f"question:{quiz[5:]}-{q}", "correct": ok}
                for q, ok in enumerate(right)
            ]
        }
        rows.append(
            (
                uuid7(),
                user_id,
                course_id,
                quiz,
                counters[(user_id, quiz)],
                when - timedelta(minutes=5),
                when,
                score,
                float(sizes.questions),
                score >= 0.6 * sizes.questions,
                json.dumps(details),
            )
        )
    await connection.copy_records_to_table(
        "quiz_attempts",
        records=rows,
        columns=[
            "id",
            "user_id",
            "course_id",
            "quiz_content_id",
            "attempt_no",
            "started_at",
            "submitted_at",
            "score",
            "max_score",
            "passed",
            "details",
        ],
    )
    progress = await connection.fetch(
        "SELECT user_id, course_id, lesson_content_id, status FROM lesson_progress"
    )
    events = [
        (
            uuid7(),
            row["user_id"],
            row["status"],
            "lesson",
            row["lesson_content_id"],
            row["course_id"],
            now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440)),
        )
        for row in progress
    ]
    events += [
        (uuid7(), r[1], "passed" if r[9] else "failed", "quiz", r[3], r[2], r[6]) for r in rows
    ]
    events.sort(key=lambda e: e[6])  # the log is written in time order
    await connection.copy_records_to_table(
        "activity_log",
        records=events,
        columns=["id", "actor_id", "verb", "object_type", "object_id", "course_id", "occurred_at"],
    )
    # a quarter of the enrollments finished, 1-60 days after enrolling (time_to_complete)
    await connection.execute(
        "UPDATE enrollments SET enrolled_at = now() - interval '90 days', "
        "status = 'completed', completed_at = now() - interval '90 days' "
        "+ (1 + floor(random() * 60)) * interval '1 day' "
        "WHERE random() < 0.25"
    )


async def build(postgres_url: str, mongo_url: str, sizes: Sizes) -> Dataset:
    """Generate, load and COPY the dataset into migrated, empty stores; timed per step."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="syl-bench-") as scratch:
        folder = Path(scratch) / "content"
        lessons, quizzes = generate(
            folder,
            lessons=sizes.courses * sizes.lessons,
            per_course=sizes.lessons,
            quizzes=sizes.quizzes,
            questions=sizes.questions,
            catalog=sizes.catalog,
            exams=True,
        )
        timings["write_folder_seconds"] = time.perf_counter() - started
        began = time.perf_counter()
        await load(folder, postgres_url, mongo_url)
        timings["content_load_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    connection = await asyncpg.connect(postgres_url)
    try:
        enrolled = await _learners(connection, sizes, lessons)
        timings["copy_learners_progress_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        await _attempts_and_activity(connection, sizes, quizzes)
        timings["copy_attempts_activity_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        await connection.execute("ANALYZE")
        timings["analyze_seconds"] = time.perf_counter() - began
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM courses) AS courses, "
            "(SELECT count(*) FROM content_index WHERE item_type = 'lesson') AS lessons, "
            "(SELECT count(*) FROM content_index WHERE item_type = 'quiz') AS quizzes, "
            "(SELECT count(*) FROM users) AS learners, "
            "(SELECT count(*) FROM enrollments) AS enrollments, "
            "(SELECT count(*) FROM lesson_progress) AS lesson_progress, "
            "(SELECT count(*) FROM quiz_attempts) AS quiz_attempts, "
            "(SELECT count(*) FROM activity_log) AS activity_log"
        )
    finally:
        await connection.close()
    timings["total_seconds"] = time.perf_counter() - started
    timings.update({f"rows_{key}": float(value) for key, value in dict(counts).items()})
    return Dataset(
        postgres_url=postgres_url,
        mongo_url=mongo_url,
        sizes=sizes,
        enrolled=enrolled,
        lessons=lessons,
        quizzes=quizzes,
        timings=timings,
    )
