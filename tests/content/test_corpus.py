"""The lesson corpus (tests/content/corpus/): 32 lessons written for these tests in the
styles of Docusaurus, Starlight, Nextra, react.dev, Redux, MkDocs and Jupyter Book, in
English, German and Russian. The folder loads as it is (only ``id`` added to front
matter), and every lesson's blocks match the parse the JavaScript MDX toolchain made of
it (tests/content/mdx_reference/, committed as corpus/reference/)."""

import json
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.lesson.convert import Converter
from syllabus.content.loader.lesson.syntax import parser
from syllabus.content.loader.parse import split_lesson
from syllabus.content.loader.problems import Problems
from syllabus.content.loader.run import load_folder

CORPUS = Path(__file__).parent / "corpus"
LESSONS = sorted(
    path for path in (CORPUS / "courses").glob("*/lessons/*") if path.suffix in (".md", ".mdx")
)
TOLERATED: dict[str, tuple[str, str]] = {
    # file: (the markdown-it rule that makes the difference, why it is tolerated)
    "datenanalyse/15-mkdocs-admonitions.md": (
        "admonition",
        "MkDocs `!!! type` admonitions are a Python-Markdown extension remark does not "
        "know (it reads them as paragraphs); with that one rule off the blocks match",
    ),
}


def name(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


COMPARED: dict[str, tuple[str, ...]] = {
    "heading": ("level", "text", "id"),
    "image": ("src", "alt", "title"),
    "code": ("language", "meta", "text"),
    "admonition": ("type", "title"),
    "math": ("tex",),
    "expression": ("expression",),
    "html": ("html",),
    "footnote": ("label",),
}


def outline(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The loader's blocks in the shape of the reference outline (mdx_reference/reference.mjs):
    the structure, code, headings with their ids, components with their props, math,
    admonitions; paragraphs by kind only (their inline Markdown is not compared)."""
    result: list[dict[str, Any]] = []
    for block in blocks:
        kind = block["kind"]
        item: dict[str, Any] = {"kind": kind}
        item |= {key: block[key] for key in COMPARED.get(kind, ())}
        if kind == "list":
            item |= {
                "ordered": block["ordered"],
                "start": block["start"],
                "items": [
                    {"checked": entry["checked"], "children": outline(entry["children"])}
                    for entry in block["items"]
                ],
            }
        elif kind == "table":
            item |= {
                "align": block["align"],
                "columns": len(block["header"]),
                "rows": len(block["rows"]),
            }
        elif kind == "component":
            item |= {
                "name": block["name"],
                "props": {
                    key: {"expression": value["expression"]} if isinstance(value, dict) else value
                    for key, value in block["props"].items()
                },
                "spread": block["spread"],
            }
        if "children" in block:
            item["children"] = outline(block["children"])
        result.append(item)
    return result


def reference(path: Path) -> dict[str, Any]:
    file = CORPUS / "reference" / path.parent.parent.name / f"{path.name}.json"
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return data


def parsed(path: Path, *, without: str | None = None) -> dict[str, Any]:
    """The lesson as the loader parses it (``without`` one markdown-it rule)."""
    split = split_lesson(name(path), path.read_bytes().decode("utf-8"), Problems())
    assert split is not None
    md = parser(mdx=path.suffix == ".mdx", without=(without,) if without else ())
    result = Converter(md, split.body, mdx=path.suffix == ".mdx").convert()
    assert result.errors == []
    return {"imports": result.imports, "blocks": result.blocks}


def test_the_corpus_is_large_and_varied() -> None:
    assert len(LESSONS) >= 30
    assert {path.suffix for path in LESSONS} == {".md", ".mdx"}
    assert {path.parent.parent.name for path in LESSONS} == {
        "web-docs",  # English
        "datenanalyse",  # German
        "osnovy-python",  # Russian
    }


@pytest.mark.parametrize("path", LESSONS, ids=name)
def test_blocks_match_the_javascript_mdx_toolchain(path: Path) -> None:
    expected = reference(path)
    assert "error" not in expected, expected
    ours = parsed(path)
    tolerated = TOLERATED.get(name(path))
    if tolerated is not None:
        rule, _why = tolerated
        assert outline(ours["blocks"]) != expected["blocks"]  # the difference is real
        ours = parsed(path, without=rule)
    assert ours["imports"] == expected["imports"]
    assert outline(ours["blocks"]) == expected["blocks"]


async def test_the_corpus_loads_as_written(
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Only ``id`` was added to the authors' front matter: every other key is kept in
    ``meta`` with a warning, and the stored blocks are the parsed ones."""
    result = await load_folder(CORPUS, database=mongo, sessionmaker=catalog_sessions)
    assert result.problems == []
    assert result.ok
    assert result.warnings
    assert {warning.message for warning in result.warnings} == {"not a lesson key: kept in meta"}
    stored = {lesson["_id"]: lesson async for lesson in mongo["lesson_content"].find({})}
    assert len(stored) == len(LESSONS)
    by_source = {str(lesson["source"]): lesson for lesson in stored.values()}
    for path in LESSONS:
        split = split_lesson(name(path), path.read_bytes().decode("utf-8"), Problems())
        assert split is not None
        lesson = by_source[split.source]
        assert lesson["blocks"] == parsed(path)["blocks"]
        assert lesson["format"] == path.suffix.removeprefix(".")
