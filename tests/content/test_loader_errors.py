"""One broken folder per class of error: the exact `file:line: field: message` lines, and
nothing written to either store."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from syllabus.content.loader.read import ReadLimits
from syllabus.content.loader.run import folder_fingerprint, load_folder
from tests.content.folder import write_json

COURSE = Path("courses") / "rest-basics"


def edit_json(path: Path, change: Callable[[Any], object]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    write_json(path, data)


def replace_in(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def unknown_key(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(colour="red"))


def missing_field(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.pop("level"))


def missing_language(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.pop("language"))


def language_not_a_primary_tag(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(language="en-US"))


def language_not_in_iso_639(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(language="xx"))


def language_with_a_shorter_code(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(language="eng"))


def currency_not_in_iso_4217(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(currency="ABC"))


def currency_in_lower_case(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(currency="usd"))


def wrong_prefix(root: Path) -> None:
    edit_json(root / COURSE / "quizzes" / "check.json", lambda d: d.update(id="lesson:check"))


def duplicate_id(root: Path) -> None:
    replace_in(root / COURSE / "lessons" / "02-more.mdx", "rest-basics-more", "rest-basics-intro")


def duplicate_key(root: Path) -> None:
    (root / "tracks.json").write_text(
        '[\n  {"slug": "backend",\n   "name": "Backend",\n   "name": "Again",\n'
        '   "category": "programming"}\n]\n',
        encoding="utf-8",
    )


def dangling_reference(root: Path) -> None:
    edit_json(
        root / COURSE / "course.json",
        lambda d: d["modules"][0]["items"].append("lesson:rest-basics-missing"),
    )


def item_of_another_course(root: Path) -> None:
    edit_json(
        root / COURSE / "course.json",
        lambda d: d["modules"][0]["items"].append("lesson:paid-course-intro"),
    )


def lesson_in_no_module(root: Path) -> None:
    edit_json(
        root / COURSE / "course.json",
        lambda d: d["modules"][0]["items"].remove("lesson:rest-basics-more"),
    )


def choice_without_correct_option(root: Path) -> None:
    edit_json(root / "questions" / "bank.json", lambda d: d[0].pop("correct"))


def correct_option_that_does_not_exist(root: Path) -> None:
    edit_json(root / "questions" / "bank.json", lambda d: d[0].update(correct="z"))


def numeric_without_value(root: Path) -> None:
    edit_json(
        root / "questions" / "bank.json",
        lambda d: d.append({"id": "question:bank-sum", "type": "numeric", "prompt": "2 + 2?"}),
    )


def invalid_json(root: Path) -> None:
    (root / "tracks.json").write_text(
        '[\n  {"slug": "backend",\n   "name": }\n]\n', encoding="utf-8"
    )


def invalid_yaml(root: Path) -> None:
    replace_in(
        root / COURSE / "lessons" / "01-intro.mdx", "duration_minutes: 7", "duration_minutes: [7"
    )


def not_utf8(root: Path) -> None:
    path = root / COURSE / "lessons" / "01-intro.mdx"
    path.write_bytes(path.read_bytes().replace(b"Plain", b"Pl\xe4in"))


def legacy_answer_out_of_range(root: Path) -> None:
    edit_json(
        root / "questions" / "legacy.json",
        lambda d: d.append(
            {"id": 3, "type": "single", "question": "Q?", "options": ["a", "b"], "answer": 5}
        ),
    )


def unclosed_component(root: Path) -> None:
    replace_in(root / COURSE / "lessons" / "01-intro.mdx", "</Callout>", "")


def unquoted_attribute(root: Path) -> None:
    replace_in(
        root / COURSE / "lessons" / "01-intro.mdx", '<Callout type="tip">', "<Callout type=tip>"
    )


def wrong_closing_tag(root: Path) -> None:
    replace_in(root / COURSE / "lessons" / "01-intro.mdx", "</Callout>", "</Calout>")


def unclosed_expression(root: Path) -> None:
    replace_in(root / COURSE / "lessons" / "01-intro.mdx", "Plain Markdown", "Plain {Markdown")


def unknown_category(root: Path) -> None:
    edit_json(root / COURSE / "course.json", lambda d: d.update(category="cooking"))


def unknown_question(root: Path) -> None:
    edit_json(
        root / COURSE / "quizzes" / "check.json",
        lambda d: d["questions"].append("question:nowhere"),
    )


CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "unknown key": (unknown_key, ["courses/rest-basics/course.json:45: colour: unknown key"]),
    "missing field": (missing_field, ["courses/rest-basics/course.json:1: level: required"]),
    "missing language": (
        missing_language,
        ["courses/rest-basics/course.json:1: language: required"],
    ),
    "language with a region": (
        language_not_a_primary_tag,
        [
            "courses/rest-basics/course.json:6: language: 'en-US' is not a BCP 47 primary "
            "language tag (a lower-case ISO 639 code: 'en', 'ru', 'de')"
        ],
    ),
    "language not in ISO 639": (
        language_not_in_iso_639,
        [
            "courses/rest-basics/course.json:6: language: 'xx' is not a BCP 47 primary "
            "language tag (a lower-case ISO 639 code: 'en', 'ru', 'de')"
        ],
    ),
    "three-letter code of a language that has two": (
        language_with_a_shorter_code,
        [
            "courses/rest-basics/course.json:6: language: 'eng' is not a BCP 47 primary "
            "language tag (a lower-case ISO 639 code: 'en', 'ru', 'de')"
        ],
    ),
    "currency not in ISO 4217": (
        currency_not_in_iso_4217,
        [
            "courses/rest-basics/course.json:45: currency: 'ABC' is not an ISO 4217 currency "
            "code (upper case: 'USD', 'EUR', 'RUB')"
        ],
    ),
    "currency in lower case": (
        currency_in_lower_case,
        [
            "courses/rest-basics/course.json:45: currency: 'usd' is not an ISO 4217 currency "
            "code (upper case: 'USD', 'EUR', 'RUB')"
        ],
    ),
    "wrong id prefix": (
        wrong_prefix,
        [
            "courses/rest-basics/quizzes/check.json:2: id: 'lesson:check' must look like "
            "quiz:<slug> (lower-case letters and digits, joined by single hyphens)"
        ],
    ),
    "duplicate id across files": (
        duplicate_id,
        [
            "courses/rest-basics/lessons/02-more.mdx:2: id: duplicate id lesson:rest-basics-intro "
            "(first defined at courses/rest-basics/lessons/01-intro.mdx:2)"
        ],
    ),
    "duplicate key": (duplicate_key, ["tracks.json:4: name: duplicate key"]),
    "dangling reference": (
        dangling_reference,
        [
            "courses/rest-basics/course.json:20: modules[0].items[3]: "
            "unknown lesson lesson:rest-basics-missing in this course"
        ],
    ),
    "item of another course": (
        item_of_another_course,
        [
            "courses/rest-basics/course.json:20: modules[0].items[3]: unknown lesson "
            "lesson:paid-course-intro in this course (it belongs to course:paid-course)"
        ],
    ),
    "lesson in no module": (
        lesson_in_no_module,
        [
            "courses/rest-basics/course.json:11: modules: lesson lesson:rest-basics-more is not in any module"
        ],
    ),
    "choice question without a correct option": (
        choice_without_correct_option,
        ["questions/bank.json:2: [0].correct: required"],
    ),
    "correct option that does not exist": (
        correct_option_that_does_not_exist,
        ["questions/bank.json:16: [0].correct: 'z' is not one of the option ids ['a', 'b']"],
    ),
    "numeric question without a value": (
        numeric_without_value,
        ["questions/bank.json:72: [3].value: required"],
    ),
    "invalid JSON": (
        invalid_json,
        ["tracks.json:3: (json): invalid JSON: Expecting value (column 12)"],
    ),
    "invalid YAML": (
        invalid_yaml,
        [
            "courses/rest-basics/lessons/01-intro.mdx:5: (front matter): invalid YAML: "
            "did not find expected ',' or ']'"
        ],
    ),
    "non-UTF-8 file": (
        not_utf8,
        ["courses/rest-basics/lessons/01-intro.mdx:13: (file): not UTF-8: byte 0xe4 at offset 168"],
    ),
    "legacy answer out of range": (
        legacy_answer_out_of_range,
        ["questions/legacy.json:25: [2].answer: 5 is not an option index (0 to 1)"],
    ),
    "unclosed component": (
        unclosed_component,
        ["courses/rest-basics/lessons/01-intro.mdx:15: (body): <Callout> is never closed"],
    ),
    "unquoted attribute": (
        unquoted_attribute,
        [
            "courses/rest-basics/lessons/01-intro.mdx:15: (body): unexpected `t` before "
            "attribute value, expected `\"`, `'` or `{`"
        ],
    ),
    "wrong closing tag": (
        wrong_closing_tag,
        [
            "courses/rest-basics/lessons/01-intro.mdx:15: (body): <Callout> is never closed",
            "courses/rest-basics/lessons/01-intro.mdx:17: (body): unexpected closing tag "
            "</Calout>, expected </Callout>",
        ],
    ),
    "unclosed expression": (
        unclosed_expression,
        [
            "courses/rest-basics/lessons/01-intro.mdx:13: (body): unexpected end of paragraph "
            "in an expression"
        ],
    ),
    "unknown category": (
        unknown_category,
        [
            "courses/rest-basics/course.json:7: category: unknown category 'cooking'",
            "courses/rest-basics/course.json:8: track: track 'backend' belongs to category 'programming'",
        ],
    ),
    "unknown question": (
        unknown_question,
        [
            "courses/rest-basics/quizzes/check.json:16: questions[3]: unknown question question:nowhere"
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_problem_is_reported_exactly_and_nothing_is_written(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    case: str,
) -> None:
    breaks, expected = CASES[case]
    breaks(folder)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert [str(problem) for problem in result.problems] == expected
    assert result.plan is None
    for name in await mongo.list_collection_names():
        assert await mongo[name].count_documents({}) == 0, name
    for table in ("categories", "courses", "content_index", "achievements"):
        count = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
        assert count == 0, table


async def test_every_problem_in_a_folder_is_reported_at_once(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    for breaks in (unknown_key, choice_without_correct_option, not_utf8, invalid_json):
        breaks(folder)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert len(result.problems) == 4


async def test_file_problems_and_reference_problems_are_reported_together(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Four different mistakes, two of them between files: all four the first time."""
    for breaks in (choice_without_correct_option, unclosed_component, dangling_reference):
        breaks(folder)
    unknown_question(folder)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert [str(problem) for problem in result.problems] == [
        "courses/rest-basics/course.json:20: modules[0].items[3]: unknown lesson "
        "lesson:rest-basics-missing in this course",
        "courses/rest-basics/lessons/01-intro.mdx:15: (body): <Callout> is never closed",
        "courses/rest-basics/quizzes/check.json:16: questions[3]: unknown question "
        "question:nowhere",
        "questions/bank.json:2: [0].correct: required",
    ]


async def test_a_broken_file_is_not_reported_again_as_a_missing_reference(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The course lists the lesson whose file is broken: one problem, not two."""
    invalid_yaml(folder)
    (folder / "categories.json").write_text("[{", encoding="utf-8")
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert [problem.file for problem in result.problems] == [
        "categories.json",
        "courses/rest-basics/lessons/01-intro.mdx",
    ]


@pytest.mark.parametrize(
    "limits", [ReadLimits(max_files=5), ReadLimits(max_file_bytes=1024)], ids=["files", "bytes"]
)
def test_a_folder_beyond_the_limits_is_refused_before_any_file_is_read(
    folder: Path, limits: ReadLimits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unchanged-folder check hashes every file: not for a folder it would refuse."""
    opened: list[str] = []
    real_open = open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    assert folder_fingerprint(folder, prune=False, limits=limits) is None
    assert opened == []
    assert folder_fingerprint(folder, prune=False) is not None
    assert opened  # the same call within the limits reads the files


@pytest.mark.parametrize(
    ("limits", "field", "message"),
    [
        (ReadLimits(max_files=5), "(folder)", "more than 5 files"),
        (ReadLimits(max_file_bytes=1024), "(file)", "larger than 1 KiB"),
    ],
)
async def test_the_read_limits_refuse_the_folder_and_nothing_is_written(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    limits: ReadLimits,
    field: str,
    message: str,
) -> None:
    """The limits come from settings (SYLLABUS_CONTENT_MAX_FILES/_FILE_BYTES)."""
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    for name in await mongo.list_collection_names():
        await mongo[name].delete_many({})
    for table in ("content_index", "courses", "tracks", "categories"):
        await connection.execute(text(f"DELETE FROM {table}"))
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions, limits=limits)
    refused = [p for p in result.problems if p.field == field]
    assert refused, result.problems
    assert {p.message for p in refused} == {message}
    if field == "(folder)":
        assert len(refused) == 1  # reported once, for the first file beyond the limit
    assert result.plan is None
    for name in await mongo.list_collection_names():
        assert await mongo[name].count_documents({}) == 0, name
    assert (await connection.execute(text("SELECT count(*) FROM courses"))).scalar_one() == 0
