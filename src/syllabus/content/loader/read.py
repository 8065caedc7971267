"""Reading a whole author folder into a validated :class:`Bundle`, collecting every
problem on the way (never stopping at the first), with file and line.

Each file's document is built as soon as the file is valid, so a file's text, parsed
data and models are dropped before the next file is read (see ``build``).
"""

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, JsonValue, ValidationError

from syllabus.content.loader.build import (
    Bundle,
    CompetencyLink,
    CourseFolder,
    LessonBody,
    OutsideRef,
    build_exam,
    build_lesson,
    build_practice,
    build_question,
    build_quiz,
)
from syllabus.content.loader.formats import (
    LESSON_KEYS,
    QUESTION_MODELS,
    AchievementIn,
    CategoryIn,
    CompetencyIn,
    CourseIn,
    ExamIn,
    LegacyQuestionIn,
    LessonFrontMatter,
    PoolFilterIn,
    PracticeIn,
    QuizIn,
    SourceIn,
    TrackIn,
)
from syllabus.content.loader.lesson import parse_body
from syllabus.content.loader.parse import load_json, read_text, split_lesson
from syllabus.content.loader.problems import FileProblem, Lines, Located, Problems
from syllabus.content.loader.sandbox import SqlPractice
from syllabus.content.sources import SOURCE_FILE
from syllabus.db.sandbox import SampleTable

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ReadLimits:
    """Guards against pointing the loader at the wrong folder, not quotas: a catalog of
    10,000 courses is about 30,000 files, so the default count leaves room for that."""

    max_files: int = 100_000
    max_file_bytes: int = 2 * 1024 * 1024


DEFAULT_LIMITS = ReadLimits()
LESSON_SUFFIXES = (".mdx", ".md")


class Reader:
    def __init__(
        self, root: Path, *, limits: ReadLimits = DEFAULT_LIMITS, strict: bool = False
    ) -> None:
        self.root = root
        self.limits = limits
        self.problems = Problems()
        # What is worth saying but does not stop a load (front matter kept in ``meta``);
        # ``strict`` makes these problems too.
        self.strict = strict
        self.warnings = self.problems if strict else Problems()
        # Ids (and id prefixes) that a broken file would have defined: references to them
        # are not reported as unknown, since the broken file is reported already.
        self.broken_ids: set[str] = set()
        self.broken_kinds: set[str] = set()
        # (where, path in the file, id) of every question a quiz or an exam task refers
        # to, checked even when the course.json is broken
        self.question_refs: list[tuple[Lines, tuple[Any, ...], str]] = []
        # (where, path of the list, codes, content id, its course) of every lesson,
        # practice and question naming competencies; a bank question's courses are those
        # whose quizzes ask it (``quiz_courses``)
        self.competency_refs: list[tuple[Located, tuple[Any, ...], list[str], str, str | None]] = []
        self.quiz_courses: dict[str, set[str]] = {}
        # bank (file stem) -> its questions, in file order, with their skills: what an
        # exam task's bank and tag filter expands to
        self.bank_skills: dict[str, dict[str, set[str]]] = {}
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

    def broken(self, prefix: str, raw_id: Any) -> None:
        """A file or item that would define an id of ``prefix`` failed to validate."""
        if isinstance(raw_id, str) and raw_id:
            self.broken_ids.add(raw_id if raw_id.startswith(prefix) else prefix + raw_id)
        else:
            self.broken_kinds.add(prefix)

    def item_broken(self, course: CourseFolder | None, kind: str, raw_id: Any) -> None:
        """A lesson, quiz or practice file failed. An id of the right shape that no other
        file defines is taken as the one it would define; otherwise (no id, a wrong
        prefix, a duplicate) any missing item of that kind in its course may be its."""
        if isinstance(raw_id, str) and raw_id.startswith(f"{kind}:") and raw_id not in self.defined:
            self.broken_ids.add(raw_id)
        elif course is not None:
            course.broken.add(kind)

    def may_lack(self, content_id: str) -> bool:
        return content_id in self.broken_ids or any(
            content_id.startswith(kind) for kind in self.broken_kinds
        )

    def warn(self, source: Located, path: tuple[Any, ...], message: str, *, kept: str) -> None:
        """``message``, and what the loader does about it (``kept``) unless ``strict``."""
        self.warnings.at(
            source, path, f"{message} (--strict)" if self.strict else f"{message}: {kept}"
        )

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

    def listed(
        self, name: str, *, required: bool, prefix: str
    ) -> Iterator[tuple[Any, Located, int]]:
        path = self.root / name
        if not path.exists():
            if required:
                self.problems.add(name, 1, "(file)", "missing")
                self.broken_kinds.add(prefix)
            return
        source = self.json(path)
        if source is None:
            self.broken_kinds.add(prefix)
            return
        self.catalog_files[name] = source.lines
        if not isinstance(source.data, list):
            self.problems.at(source, (), "must be a JSON list")
            self.broken_kinds.add(prefix)
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
        # References are checked even when files have problems, so that one run reports
        # everything; what a broken file would have defined is not reported as missing.
        check_references(self)
        return self.bundle

    def read_catalog(self) -> None:
        for item, source, index in self.listed(
            "categories.json", required=False, prefix="category:"
        ):
            category = self.model(CategoryIn, item, source, (index,))
            if category is None:
                self.broken("category:", _get(item, "slug"))
            elif self.define(f"category:{category.slug}", source, (index, "slug")):
                self.bundle.categories.append(category)
        for item, source, index in self.listed("tracks.json", required=False, prefix="track:"):
            track = self.model(TrackIn, item, source, (index,))
            if track is None:
                self.broken("track:", _get(item, "slug"))
            elif self.define(f"track:{track.slug}", source, (index, "slug")):
                self.bundle.tracks.append(track)
        for item, source, index in self.listed(
            "achievements.json", required=False, prefix="achievement:"
        ):
            achievement = self.model(AchievementIn, item, source, (index,))
            if achievement and self.define(
                f"achievement:{achievement.code}", source, (index, "code")
            ):
                self.bundle.achievements.append(achievement)
        for item, source, index in self.listed(
            "competencies.json", required=False, prefix="competency:"
        ):
            competency = self.model(CompetencyIn, item, source, (index,))
            if competency is None:
                self.broken("competency:", _get(item, "code"))
            elif self.define(f"competency:{competency.code}", source, (index, "code")):
                self.bundle.competencies.append(competency)

    def read_bank(self, path: Path) -> None:
        source = self.json(path)
        if source is None:
            self.broken_kinds.add("question:")
            return
        if not isinstance(source.data, list):
            self.problems.at(source, (), "a question bank must be a JSON list")
            self.broken_kinds.add("question:")
            return
        for index, item in enumerate(source.data):
            if self.question(item, source, (index,), bank=path.stem) is None:
                legacy = isinstance(item, dict) and "prompt" not in item
                self.broken("question:", None if legacy else _get(item, "id"))

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
        if bank is not None:
            self.bank_skills.setdefault(bank, {})[question.id] = set(question.skills)  # type: ignore[attr-defined]
        self.names_competencies(source, path, question, None)
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
        else:
            self.broken("course:", f"course:{folder.name}")
        lessons = folder / "lessons"
        for path in sorted(lessons.iterdir() if lessons.is_dir() else ()):
            if path.suffix in LESSON_SUFFIXES and path.is_file():
                self.read_lesson(path, course)
        for path in sorted((folder / "quizzes").glob("*.json")):
            self.read_quiz(path, course)
        for path in sorted((folder / "exams").glob("*.json")):
            self.read_exam(path, course)
        for path in sorted((folder / "practices").glob("*.json")):
            practice_source = self.json(path)
            if practice_source is None:
                self.item_broken(course, "practice", written_id(path))
                continue
            practice = self.model(PracticeIn, practice_source.data, practice_source, ())
            if practice is None or not self.define(practice.id, practice_source, ("id",)):
                self.item_broken(course, "practice", _get(practice_source.data, "id"))
            elif course:
                course.add(*build_practice(practice, course.course.id))
                self.names_competencies(practice_source, (), practice, course.course.id)
                if practice.sample_data is not None:
                    self.bundle.sql_practices.append(
                        SqlPractice(
                            file=practice_source.file,
                            line=practice_source.line_of(("sample_data",)),
                            practice_id=practice.id,
                            tables=tuple(
                                SampleTable(
                                    name=table.name,
                                    columns=tuple(table.columns.items()),
                                    rows=tuple(tuple(row) for row in table.rows),
                                )
                                for table in practice.sample_data.tables
                            ),
                            reference=practice.reference_solution,
                        )
                    )

    def read_quiz(self, path: Path, course: CourseFolder | None) -> None:
        source = self.json(path)
        if source is None:
            self.item_broken(course, "quiz", written_id(path))
            return
        quiz = self.model(QuizIn, source.data, source, ())
        if quiz is None or not self.define(quiz.id, source, ("id",)):
            self.item_broken(course, "quiz", _get(source.data, "id"))
            return
        question_ids: list[str] = []
        for index, item in enumerate(quiz.questions):
            if isinstance(item, dict):
                question_id = self.question(item, source, ("questions", index), bank=None)
                if question_id is not None:
                    question_ids.append(question_id)
                else:
                    self.broken("question:", item.get("id"))
            else:
                question_ids.append(item)
                self.question_refs.append((source.lines, ("questions", index), item))
        if course:
            course.add(*build_quiz(quiz, question_ids, course.course.id))
            for question_id in question_ids:
                self.quiz_courses.setdefault(question_id, set()).add(course.course.id)

    def read_exam(self, path: Path, course: CourseFolder | None) -> None:
        """``exams/<slug>.json``: the exam ``exam:<slug>``; its auto tasks' inline
        questions join the bank like a quiz's."""
        source = self.json(path)
        if source is None:
            self.broken("exam:", written_id(path))
            return
        exam = self.model(ExamIn, source.data, source, ())
        if exam is None:
            self.broken("exam:", _get(source.data, "id"))
            return
        if exam.id != f"exam:{path.stem}":
            self.problems.at(source, ("id",), f"must be exam:{path.stem} (the file's name)")
            return
        if not self.define(exam.id, source, ("id",)):
            return
        pools: dict[int, list[str]] = {}
        for t, task in enumerate(exam.tasks):
            if task.competencies:  # checked, not linked: a link points at what teaches it
                self.competency_refs.append(
                    (source, ("tasks", t, "competencies"), list(task.competencies), exam.id, None)
                )
            for index, item in enumerate(task.pool):
                where = ("tasks", t, "pool", index)
                if isinstance(item, dict) and "bank" in item:
                    pool = pools.setdefault(task.number, [])
                    pool += [q for q in self.filtered(item, source, where) if q not in pool]
                    continue
                if isinstance(item, dict):
                    question_id = self.question(item, source, where, bank=None)
                    if question_id is None:
                        self.broken("question:", item.get("id"))
                        continue
                else:
                    question_id = item
                    self.question_refs.append((source.lines, where, item))
                pools.setdefault(task.number, []).append(question_id)
        if course:
            course.exams.append(build_exam(exam, pools, course.course.id))

    def filtered(self, item: dict[str, Any], source: Located, where: tuple[Any, ...]) -> list[str]:
        """A pool's bank and tag filter, expanded to its questions in bank order (the
        stored exam lists ids, so its version changes when the expansion does)."""
        found = self.model(PoolFilterIn, item, source, where)
        if found is None:
            return []
        bank = self.bank_skills.get(found.bank)
        if bank is None:
            if "question:" not in self.broken_kinds:
                self.problems.at(source, (*where, "bank"), f"unknown question bank {found.bank}")
            return []
        wanted = set(found.skills)
        ids = [question for question, skills in bank.items() if wanted <= skills]
        if not ids:
            tags = ", ".join(found.skills)
            self.problems.at(
                source, where, f"no question of bank {found.bank} has the skills {tags}"
            )
        return ids

    def read_lesson(self, path: Path, course: CourseFolder | None) -> None:
        text = self.text(path)
        split = None if text is None else split_lesson(self.rel(path), text, self.problems)
        if split is None:
            self.item_broken(course, "lesson", written_id(path) or id_from_file_name(path))
            return
        rel = self.rel(path)
        source = split.front_matter or Located({}, Lines(rel))
        known = {key: value for key, value in source.data.items() if key in LESSON_KEYS}
        meta: dict[str, JsonValue] = {}
        for key, value in source.data.items():
            if key in LESSON_KEYS:
                continue
            refused = unstorable_key({str(key): value})
            if refused is not None:
                self.problems.at(source, (key,), f"key {refused!r}: {UNSTORABLE}")
                continue
            meta[str(key)] = json_safe(value)
            self.warn(source, (key,), "not a lesson key", kept="kept in meta")
        mdx = path.suffix == ".mdx"
        parsed = parse_body(split.body, mdx=mdx)
        for line, message in parsed.errors:
            self.problems.add(rel, split.body_line + line, "(body)", message)
        known.setdefault("id", id_from_file_name(path))
        known.setdefault("title", title_from_body(parsed.blocks) or title_from_file_name(path))
        front = self.model(LessonFrontMatter, known, source, ())
        if front is None or parsed.errors or not self.define(front.id, source, ("id",)):
            self.item_broken(course, "lesson", known["id"])
            return
        if course:
            course.add(
                *build_lesson(
                    front,
                    LessonBody(
                        source=split.source,
                        format="mdx" if mdx else "md",
                        blocks=parsed.blocks,
                        imports=parsed.imports,
                        meta=meta,
                    ),
                    course.course.id,
                )
            )
            self.names_competencies(source, (), front, course.course.id)

    def names_competencies(
        self, source: Located, path: tuple[Any, ...], model: Any, course_id: str | None
    ) -> None:
        """Remember the competencies a valid lesson, practice or question names, to be
        checked against competencies.json once the whole folder is read."""
        if model.competencies:
            self.competency_refs.append(
                (source, (*path, "competencies"), list(model.competencies), model.id, course_id)
            )


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


WRITTEN_ID = re.compile(r"^id:[ \t]*['\"]?([^'\"\s]+)" + r'|"id"\s*:\s*"([^"]+)"', re.MULTILINE)


def written_id(path: Path) -> str | None:
    """The id a file that cannot be read or parsed seems to define (its first ``id:``
    line or ``"id": "…"``), so that references to it are not reported twice."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024).decode("utf-8", errors="replace")
    found = WRITTEN_ID.search(head)
    return (found.group(1) or found.group(2)) if found else None


NUMBER_PREFIX = re.compile(r"^\d+[-_. ]*")


def _stem(path: Path) -> str:
    return NUMBER_PREFIX.sub("", path.stem) or path.stem


def id_from_file_name(path: Path) -> str:
    """``lessons/01-what-is-rest.mdx`` → ``lesson:what-is-rest`` (order digits dropped)."""
    return "lesson:" + re.sub(r"[^a-z0-9]+", "-", _stem(path).lower()).strip("-")


def title_from_file_name(path: Path) -> str:
    """``01-what-is-rest.mdx`` → ``What is rest``."""
    words = re.sub(r"[-_]+", " ", _stem(path)).strip()
    return words[:1].upper() + words[1:]


def title_from_body(blocks: list[dict[str, Any]]) -> str | None:
    """The text of the lesson's first top-level ``#`` heading, as Docusaurus and
    Starlight take a page's title."""
    for block in blocks:
        if block["kind"] == "heading" and block["level"] == 1:
            return str(block["text"]).strip() or None
    return None


UNSTORABLE = "a key kept in meta may not start with '$' or hold '.' (MongoDB field names)"


def unstorable_key(value: Any) -> str | None:
    """The first key, at any depth, that MongoDB would not store as a field name."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if name.startswith("$") or "." in name:
                return name
            inner = unstorable_key(item)
            if inner is not None:
                return inner
    elif isinstance(value, list):
        return next((found for item in value if (found := unstorable_key(item))), None)
    return None


def json_safe(value: Any) -> JsonValue:
    """YAML values as JSON: dates as ISO 8601 text, other scalars as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(item) for item in value]
    return str(value)


def read_folder(
    root: Path, *, limits: ReadLimits, strict: bool = False
) -> tuple[Bundle, list[FileProblem], list[FileProblem]]:
    """Read ``root``: the bundle, the problems and the warnings (none with ``strict``: they
    are problems then). The reader (and its registry of where every id was defined) is
    dropped here, so only the bundle outlives the reading."""
    reader = Reader(root, limits=limits, strict=strict)
    bundle = reader.read()
    warnings = [] if strict else reader.warnings.sorted()
    return bundle, reader.problems.sorted(), warnings


def read_source(root: Path) -> tuple[str | None, list[FileProblem]]:
    """The id ``root/source.json`` names, or ``None`` when the folder has no such file;
    and the file's problems."""
    path = root / SOURCE_FILE
    if not path.is_file():
        return None, []
    problems = Problems()
    text = read_text(path, SOURCE_FILE, problems)
    located = None if text is None else load_json(SOURCE_FILE, text, problems)
    if located is None:
        return None, problems.sorted()
    try:
        return SourceIn.model_validate(located.data).id, []
    except ValidationError as error:
        problems.from_validation(located, error)
        return None, problems.sorted()


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
        "competencies": question.competencies,
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
    may_lack = reader.may_lack
    for index, track in enumerate(bundle.tracks):
        if track.category not in categories and not may_lack(f"category:{track.category}"):
            bundle.outside.append(
                OutsideRef(
                    "category",
                    track.category,
                    reader.catalog_files["tracks.json"],
                    (index, "category"),
                )
            )
    course_ids = {course.course.id for course in bundle.courses}
    owners = {item_id: course.course.id for course in bundle.courses for item_id in course.items}
    for course in bundle.courses:
        check_course(course, categories, tracks, owners, bundle, problems, may_lack)
    for where, path, question_id in reader.question_refs:
        if question_id not in bundle.questions and not may_lack(question_id):
            problems.at(where, path, f"unknown question {question_id}")
    check_competencies(reader)
    for index, achievement in enumerate(bundle.achievements):
        rule_course = getattr(achievement.rule, "course", None)
        if rule_course is not None and rule_course not in course_ids and not may_lack(rule_course):
            bundle.outside.append(
                OutsideRef(
                    "course",
                    rule_course,
                    reader.catalog_files["achievements.json"],
                    (index, "rule", "course"),
                )
            )


def check_course(
    course: CourseFolder,
    categories: set[str],
    tracks: dict[str, TrackIn],
    owners: dict[str, str],
    bundle: Bundle,
    problems: Problems,
    may_lack: Callable[[str], bool],
) -> None:
    """``owners``: the course of every item in the folder, to say where a stray one is;
    ``may_lack``: whether an id may be missing because the file defining it is broken.
    A category or track the folder does not define may be another source's: it goes to
    ``bundle.outside``."""
    spec, source = course.course, course.lines
    if spec.category not in categories and not may_lack(f"category:{spec.category}"):
        bundle.outside.append(OutsideRef("category", spec.category, source, ("category",)))
    if spec.track is not None:
        track = tracks.get(spec.track)
        if track is None:
            if not may_lack(f"track:{spec.track}"):
                bundle.outside.append(
                    OutsideRef("track", spec.track, source, ("track",), spec.category)
                )
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
                if may_lack(item) or kind in course.broken:
                    continue
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
            if own.get(lesson_id) != "lesson" and "lesson" not in course.broken:
                problems.at(
                    source,
                    ("completion", "lessons", i),
                    f"unknown lesson {lesson_id} in this course",
                )
    for i, quiz_id in enumerate(spec.completion.quizzes):
        if own.get(quiz_id) != "quiz" and "quiz" not in course.broken:
            problems.at(
                source, ("completion", "quizzes", i), f"unknown quiz {quiz_id} in this course"
            )
    for item_id in spec.points.items:
        if item_id not in own and item_id.split(":", 1)[0] not in course.broken:
            problems.at(
                source, ("points", "items", item_id), f"unknown item {item_id} in this course"
            )


def check_competencies(reader: Reader) -> None:
    """competencies.json forms a tree (known parents, no cycle), every code a lesson,
    practice or question names is in it, and each naming becomes a link per course."""
    bundle, problems = reader.bundle, reader.problems
    parents = {c.code: c.parent for c in bundle.competencies}
    for index, competency in enumerate(bundle.competencies):
        seen = {competency.code}
        parent = competency.parent
        while parent is not None:
            if parent not in parents:
                if not reader.may_lack(f"competency:{parent}"):
                    problems.at(
                        reader.catalog_files["competencies.json"],
                        (index, "parent"),
                        f"unknown competency {parent!r}",
                    )
                break
            if parent in seen:
                problems.at(
                    reader.catalog_files["competencies.json"],
                    (index, "parent"),
                    f"{competency.code!r} is its own ancestor",
                )
                break
            seen.add(parent)
            parent = parents[parent]
    for source, path, codes, content_id, course_id in reader.competency_refs:
        for i, code in enumerate(codes):
            if code not in parents:
                if not reader.may_lack(f"competency:{code}"):
                    problems.at(source, (*path, i), f"unknown competency {code!r}")
                continue
            if content_id.startswith("exam:"):
                continue
            courses = {course_id} if course_id else reader.quiz_courses.get(content_id, set())
            bundle.competency_links.extend(
                CompetencyLink(code, content_id, course) for course in sorted(courses)
            )
