"""Reading a whole author folder into a validated :class:`Bundle`, collecting every
problem on the way (never stopping at the first), with file and line.

Each file's document is built as soon as the file is valid, so a file's text, parsed
data and models are dropped before the next file is read (see ``build``).
"""

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from syllabus.content.loader.build import (
    Bundle,
    CourseFolder,
    build_lesson,
    build_practice,
    build_question,
    build_quiz,
)
from syllabus.content.loader.formats import (
    QUESTION_MODELS,
    AchievementIn,
    CategoryIn,
    CourseIn,
    LegacyQuestionIn,
    LessonFrontMatter,
    PracticeIn,
    QuizIn,
    TrackIn,
)
from syllabus.content.loader.mdx import parse_blocks
from syllabus.content.loader.parse import load_json, read_text, split_front_matter
from syllabus.content.loader.problems import FileProblem, Lines, Located, Problems

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ReadLimits:
    """Guards against pointing the loader at the wrong folder, not quotas: a catalog of
    10,000 courses is about 30,000 files, so the default count leaves room for that."""

    max_files: int = 100_000
    max_file_bytes: int = 2 * 1024 * 1024


DEFAULT_LIMITS = ReadLimits()


class Reader:
    def __init__(self, root: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self.root = root
        self.limits = limits
        self.problems = Problems()
        self.bundle = Bundle()
        self.files_read = 0
        # id -> where it was first defined, for duplicate reports
        self.defined: dict[str, tuple[Lines, tuple[Any, ...]]] = {}
        self.catalog_files: dict[str, Lines] = {}

    # -- files ---------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def text(self, path: Path) -> str | None:
        self.files_read += 1
        max_files, max_bytes = self.limits.max_files, self.limits.max_file_bytes
        if self.files_read > max_files:
            if self.files_read == max_files + 1:
                self.problems.add(self.rel(path), 1, "(folder)", f"more than {max_files} files")
            return None
        if path.stat().st_size > max_bytes:
            self.problems.add(self.rel(path), 1, "(file)", f"larger than {max_bytes // 1024} KiB")
            return None
        return read_text(path, self.rel(path), self.problems)

    def json(self, path: Path) -> Located | None:
        text = self.text(path)
        return None if text is None else load_json(self.rel(path), text, self.problems)

    def model(self, model: type[M], data: Any, source: Located, path: tuple[Any, ...]) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            self.problems.from_validation(source, error, path)
            return None

    def define(self, content_id: str, source: Located, path: tuple[Any, ...]) -> bool:
        """Register an id; a second definition anywhere in the folder is a problem."""
        if content_id in self.defined:
            first, first_path = self.defined[content_id]
            where = f"{first.file}:{first.line_of(first_path)}"
            self.problems.at(source, path, f"duplicate id {content_id} (first defined at {where})")
            return False
        self.defined[content_id] = (source.lines, path)
        return True

    def listed(self, name: str, *, required: bool) -> Iterator[tuple[Any, Located, int]]:
        path = self.root / name
        if not path.exists():
            if required:
                self.problems.add(name, 1, "(file)", "missing")
            return
        source = self.json(path)
        if source is None:
            return
        self.catalog_files[name] = source.lines
        if not isinstance(source.data, list):
            self.problems.at(source, (), "must be a JSON list")
            return
        for index, item in enumerate(source.data):
            yield item, source, index

    # -- the folder ----------------------------------------------------------------
    def read(self) -> Bundle:
        if not self.root.is_dir():
            self.problems.add(str(self.root), 1, "(folder)", "is not a folder")
            return self.bundle
        self.read_catalog()
        for path in sorted((self.root / "questions").glob("*.json")):
            self.read_bank(path)
        courses_dir = self.root / "courses"
        if not courses_dir.is_dir():
            self.problems.add("courses", 1, "(folder)", "missing")
        else:
            for folder in sorted(p for p in courses_dir.iterdir() if p.is_dir()):
                self.read_course(folder)
        if not self.problems:
            check_references(self)
        return self.bundle

    def read_catalog(self) -> None:
        for item, source, index in self.listed("categories.json", required=True):
            category = self.model(CategoryIn, item, source, (index,))
            if category and self.define(f"category:{category.slug}", source, (index, "slug")):
                self.bundle.categories.append(category)
        for item, source, index in self.listed("tracks.json", required=False):
            track = self.model(TrackIn, item, source, (index,))
            if track and self.define(f"track:{track.slug}", source, (index, "slug")):
                self.bundle.tracks.append(track)
        for item, source, index in self.listed("achievements.json", required=False):
            achievement = self.model(AchievementIn, item, source, (index,))
            if achievement and self.define(
                f"achievement:{achievement.code}", source, (index, "code")
            ):
                self.bundle.achievements.append(achievement)

    def read_bank(self, path: Path) -> None:
        source = self.json(path)
        if source is None:
            return
        if not isinstance(source.data, list):
            self.problems.at(source, (), "a question bank must be a JSON list")
            return
        for index, item in enumerate(source.data):
            self.question(item, source, (index,), bank=path.stem)

    def question(
        self, item: Any, source: Located, path: tuple[Any, ...], *, bank: str | None
    ) -> str | None:
        if isinstance(item, dict) and "question" in item and "prompt" not in item:
            if bank is None:
                self.problems.at(source, path, "inline questions use the new format (prompt)")
                return None
            legacy = self.model(LegacyQuestionIn, item, source, path)
            if legacy is None:
                return None
            converted = from_legacy(legacy, bank, self.problems, source, path)
            if converted is None:
                return None
            item = converted
        if not isinstance(item, dict):
            self.problems.at(source, path, "must be an object")
            return None
        model = QUESTION_MODELS.get(str(item.get("type")))
        if model is None:
            types = ", ".join(QUESTION_MODELS)
            self.problems.at(source, (*path, "type"), f"must be one of: {types}")
            return None
        question = self.model(model, item, source, path)
        if question is None or not self.define(question.id, source, (*path, "id")):  # type: ignore[attr-defined]
            return None
        self.bundle.questions[question.id] = build_question(question)  # type: ignore[attr-defined,arg-type]
        return str(question.id)  # type: ignore[attr-defined]

    def read_course(self, folder: Path) -> None:
        course_file = folder / "course.json"
        if not course_file.exists():
            self.problems.add(self.rel(folder), 1, "(folder)", "has no course.json")
            return
        source = self.json(course_file)
        course_in = None if source is None else self.model(CourseIn, source.data, source, ())
        if course_in is not None and source is not None:
            if course_in.id != f"course:{folder.name}":
                self.problems.at(
                    source, ("id",), f"must be course:{folder.name} (the folder's name)"
                )
            self.define(course_in.id, source, ("id",))
            for index, module in enumerate(course_in.modules):
                self.define(module.id, source, ("modules", index, "id"))
        # The course's own files are read even when course.json is broken, so that every
        # problem in the folder is reported in one run; their documents are built only
        # for a valid course (they carry its id).
        course = None
        if course_in is not None and source is not None:
            course = CourseFolder(course_in, source.lines)
            self.bundle.courses.append(course)
        for path in sorted((folder / "lessons").glob("*.mdx")):
            self.read_lesson(path, course)
        for path in sorted((folder / "quizzes").glob("*.json")):
            self.read_quiz(path, course)
        for path in sorted((folder / "practices").glob("*.json")):
            practice_source = self.json(path)
            if practice_source is None:
                continue
            practice = self.model(PracticeIn, practice_source.data, practice_source, ())
            if practice and self.define(practice.id, practice_source, ("id",)) and course:
                course.add(*build_practice(practice, course.course.id))

    def read_quiz(self, path: Path, course: CourseFolder | None) -> None:
        source = self.json(path)
        if source is None:
            return
        quiz = self.model(QuizIn, source.data, source, ())
        if quiz is None or not self.define(quiz.id, source, ("id",)):
            return
        question_ids: list[str] = []
        for index, item in enumerate(quiz.questions):
            if isinstance(item, dict):
                question_id = self.question(item, source, ("questions", index), bank=None)
                if question_id is not None:
                    question_ids.append(question_id)
            else:
                question_ids.append(item)
                if course:
                    course.question_refs.append((source.lines, index, item))
        if course:
            course.add(*build_quiz(quiz, question_ids, course.course.id))

    def read_lesson(self, path: Path, course: CourseFolder | None) -> None:
        text = self.text(path)
        if text is None:
            return
        split = split_front_matter(self.rel(path), text, self.problems)
        if split is None:
            return
        source, body, body_line = split
        meta = self.model(LessonFrontMatter, source.data, source, ())
        parsed = parse_blocks(body, first_line=body_line)
        for line, message in parsed.errors:
            self.problems.add(source.file, line, "(body)", message)
        if meta is None or parsed.errors or not self.define(meta.id, source, ("id",)):
            return
        if course:
            course.add(*build_lesson(meta, body, parsed.blocks, course.course.id))


def read_folder(root: Path, *, limits: ReadLimits) -> tuple[Bundle, list[FileProblem]]:
    """Read ``root``; the reader (and its registry of where every id was defined) is
    dropped here, so only the bundle outlives the reading."""
    reader = Reader(root, limits=limits)
    bundle = reader.read()
    return bundle, reader.problems.sorted()


LETTERS = string.ascii_lowercase


def from_legacy(
    question: LegacyQuestionIn,
    bank: str,
    problems: Problems,
    source: Located,
    path: tuple[Any, ...],
) -> dict[str, Any] | None:
    """The legacy shape, rewritten into the new one (ids, options, answer by index)."""
    raw_id = str(question.id)
    slug = re.sub(r"[^a-z0-9]+", "-", raw_id.lower()).strip("-")
    new_id = raw_id if raw_id.startswith("question:") else f"question:{bank}-{slug}"
    if len(question.options) > len(LETTERS):
        problems.at(source, (*path, "options"), f"at most {len(LETTERS)} options")
        return None
    options = [{"id": LETTERS[n], "text": text} for n, text in enumerate(question.options)]
    converted: dict[str, Any] = {
        "id": new_id,
        "prompt": question.question,
        "points": question.points,
        "skills": question.skills,
        "category": question.category,
    }
    if question.explanation is not None:
        converted["explanation"] = question.explanation
    answer = question.answer

    def index(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(options):
            problems.at(
                source,
                (*path, "answer"),
                f"{value!r} is not an option index (0 to {len(options) - 1})",
            )
            return None
        return LETTERS[value]

    match question.type:
        case "single":
            correct = index(answer)
            if correct is None:
                return None
            converted |= {"type": "single_choice", "options": options, "correct": correct}
        case "multiple":
            if not isinstance(answer, list) or not answer:
                problems.at(source, (*path, "answer"), "must be a list of option indexes")
                return None
            letters = [index(value) for value in answer]
            if None in letters:
                return None
            converted |= {"type": "multiple_choice", "options": options, "correct": letters}
        case "boolean":
            if not isinstance(answer, bool):
                problems.at(source, (*path, "answer"), "must be true or false")
                return None
            converted |= {"type": "true_false", "correct": answer}
        case "text":
            accepted = [answer] if isinstance(answer, str) else answer
            if not isinstance(accepted, list) or not all(isinstance(a, str) for a in accepted):
                problems.at(source, (*path, "answer"), "must be a string or a list of strings")
                return None
            converted |= {"type": "short_text", "accepted": accepted}
        case "number":
            if isinstance(answer, bool) or not isinstance(answer, int | float):
                problems.at(source, (*path, "answer"), "must be a number")
                return None
            converted |= {"type": "numeric", "value": answer, "tolerance": question.tolerance}
    return converted


def check_references(reader: Reader) -> None:
    """Everything that needs the whole folder: categories, tracks, module items, rules."""
    bundle, problems = reader.bundle, reader.problems
    categories = {category.slug for category in bundle.categories}
    tracks = {track.slug: track for track in bundle.tracks}
    for index, track in enumerate(bundle.tracks):
        if track.category not in categories:
            problems.at(
                reader.catalog_files["tracks.json"],
                (index, "category"),
                f"unknown category {track.category!r}",
            )
    course_ids = {course.course.id for course in bundle.courses}
    owners = {item_id: course.course.id for course in bundle.courses for item_id in course.items}
    for course in bundle.courses:
        check_course(course, categories, tracks, owners, bundle, problems)
    for index, achievement in enumerate(bundle.achievements):
        rule_course = getattr(achievement.rule, "course", None)
        if rule_course is not None and rule_course not in course_ids:
            problems.at(
                reader.catalog_files["achievements.json"],
                (index, "rule", "course"),
                f"unknown course {rule_course}",
            )


def check_course(
    course: CourseFolder,
    categories: set[str],
    tracks: dict[str, TrackIn],
    owners: dict[str, str],
    bundle: Bundle,
    problems: Problems,
) -> None:
    """``owners``: the course of every item in the folder, to say where a stray one is."""
    spec, source = course.course, course.lines
    if spec.category not in categories:
        problems.at(source, ("category",), f"unknown category {spec.category!r}")
    if spec.track is not None:
        track = tracks.get(spec.track)
        if track is None:
            problems.at(source, ("track",), f"unknown track {spec.track!r}")
        elif track.category != spec.category:
            problems.at(
                source, ("track",), f"track {spec.track!r} belongs to category {track.category!r}"
            )
    own: dict[str, str] = {item_id: item.type for item_id, item in course.items.items()}
    placed: dict[str, str] = {}
    orders: dict[int, str] = {}
    for m, module in enumerate(spec.modules):
        if module.order in orders:
            problems.at(
                source,
                ("modules", m, "order"),
                f"order {module.order} is also used by {orders[module.order]}",
            )
        orders[module.order] = module.id
        for i, item in enumerate(module.items):
            path = ("modules", m, "items", i)
            kind = item.split(":", 1)[0]
            if item not in own:
                where = f" (it belongs to {owners[item]})" if item in owners else ""
                problems.at(source, path, f"unknown {kind} {item} in this course{where}")
            elif item in placed:
                problems.at(source, path, f"{item} is already in {placed[item]}")
            else:
                placed[item] = module.id
    for item_id, kind in own.items():
        if item_id not in placed:
            problems.at(source, ("modules",), f"{kind} {item_id} is not in any module")
    if spec.completion.lessons != "all":
        for i, lesson_id in enumerate(spec.completion.lessons):
            if own.get(lesson_id) != "lesson":
                problems.at(
                    source,
                    ("completion", "lessons", i),
                    f"unknown lesson {lesson_id} in this course",
                )
    for i, quiz_id in enumerate(spec.completion.quizzes):
        if own.get(quiz_id) != "quiz":
            problems.at(
                source, ("completion", "quizzes", i), f"unknown quiz {quiz_id} in this course"
            )
    for item_id in spec.points.items:
        if item_id not in own:
            problems.at(
                source, ("points", "items", item_id), f"unknown item {item_id} in this course"
            )
    for quiz_source, i, question_id in course.question_refs:
        if question_id not in bundle.questions:
            problems.at(quiz_source, ("questions", i), f"unknown question {question_id}")
