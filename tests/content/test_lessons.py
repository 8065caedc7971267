"""Lesson files as authors bring them: front matter kept in ``meta`` with warnings
(``--strict`` refuses them), ``.md`` lessons, lessons without front matter, block ids that
stay put, and a dry run that shows what changes."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.lesson import jsx, parse_body
from syllabus.content.loader.report import print_result
from syllabus.content.loader.run import folder_fingerprint, load_folder
from tests.openapi import openapi_document

Database = AsyncDatabase[dict[str, Any]]
LESSONS = Path("courses") / "rest-basics" / "lessons"


def add_front_matter(path: Path, lines: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("preview: true\n", f"preview: true\n{lines}"), encoding="utf-8")


async def test_unknown_front_matter_is_kept_in_meta_with_a_warning(
    folder: Path, mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    add_front_matter(
        folder / LESSONS / "01-intro.mdx",
        "description: What the lesson covers.\nsidebar_position: 3\nlast_update:\n"
        "  date: 2024-03-01\n",
    )
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert result.ok
    assert [str(warning) for warning in result.warnings] == [
        "courses/rest-basics/lessons/01-intro.mdx:10: sidebar_position: not a lesson key: "
        "kept in meta",
        "courses/rest-basics/lessons/01-intro.mdx:11: last_update: not a lesson key: kept in meta",
    ]
    lesson = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-intro"})
    assert lesson is not None
    assert lesson["description"] == "What the lesson covers."
    assert lesson["meta"] == {"sidebar_position": 3, "last_update": {"date": "2024-03-01"}}
    out, err = Console(record=True, width=200), Console(record=True, width=200)
    print_result(result, out=out, err=err, source="content")
    assert "sidebar_position: not a lesson key: kept in meta (warning)" in err.export_text()


async def test_keys_mongodb_cannot_store_are_refused_with_their_line(
    folder: Path, mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    add_front_matter(folder / LESSONS / "01-intro.mdx", "$schema: x.json\nsite:\n  og.image: a\n")
    path = folder / LESSONS / "02-more.mdx"
    path.write_text(
        path.read_text(encoding="utf-8").replace('type="tip"', 'type="tip" $ref="x"'),
        encoding="utf-8",
    )
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    refused = "a key kept in meta may not start with '$' or hold '.' (MongoDB field names)"
    assert [str(problem) for problem in result.problems] == [
        f"courses/rest-basics/lessons/01-intro.mdx:9: $schema: key '$schema': {refused}",
        f"courses/rest-basics/lessons/01-intro.mdx:10: site: key 'og.image': {refused}",
        "courses/rest-basics/lessons/02-more.mdx:15: (body): attribute `$ref`: names "
        "starting with `$` are not stored",
    ]


async def test_strict_turns_warnings_into_problems(
    folder: Path, mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    add_front_matter(folder / LESSONS / "01-intro.mdx", "sidebar_label: Intro\n")
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions, strict=True)
    assert [str(problem) for problem in result.problems] == [
        "courses/rest-basics/lessons/01-intro.mdx:9: sidebar_label: not a lesson key (--strict)"
    ]
    assert result.plan is None
    assert await mongo["lesson_content"].count_documents({}) == 0
    assert folder_fingerprint(folder, prune=False, strict=True) != folder_fingerprint(
        folder, prune=False
    )


async def test_md_lessons_and_lessons_without_front_matter_load(
    folder: Path,
    mongo: Database,
    catalog_sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    """Id from the file name (order digits dropped), title from the first heading; a
    ``.md`` file is Markdown (raw HTML stays HTML), counted in the folder fingerprint."""
    before = folder_fingerprint(folder, prune=False)
    (folder / LESSONS / "03-http-verbs.md").write_text(
        "\ufeff# HTTP verbs\r\n\r\n<b>GET</b> reads.\r\n\r\n<details>\r\nmore\r\n</details>\r\n",
        encoding="utf-8",
    )
    assert folder_fingerprint(folder, prune=False) != before
    course = folder / "courses" / "rest-basics" / "course.json"
    course.write_text(
        course.read_text(encoding="utf-8").replace(
            '"lesson:rest-basics-more",', '"lesson:rest-basics-more", "lesson:http-verbs",'
        ),
        encoding="utf-8",
    )
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert result.ok, result.problems
    response = await client.get("/api/v1/lessons/lesson:http-verbs")
    assert response.status_code == 200
    lesson = response.json()
    assert lesson["title"] == "HTTP verbs"
    assert lesson["format"] == "md"
    assert lesson["source"].startswith("# HTTP verbs\r\n")  # byte for byte, BOM dropped
    assert [block["kind"] for block in lesson["blocks"]] == ["heading", "paragraph", "html"]
    assert lesson["blocks"][0]["id"] == "http-verbs"


def test_block_ids_are_stable_and_follow_the_rule() -> None:
    body = "# Intro\n\nFirst.\n\n## Intro\n\n```py\nx = 1\n```\n"
    first, again = parse_body(body, mdx=True), parse_body(body, mdx=True)
    assert first.blocks == again.blocks
    ids = [block["id"] for block in first.blocks]
    assert ids[0] == "intro"
    assert ids[2] == "intro-1"  # a repeated heading, as github-slugger makes it
    assert ids[1].startswith("paragraph-2-")
    assert len(ids[1]) == len("paragraph-2-") + 8
    edited = parse_body("Added above.\n\n" + body, mdx=True)
    moved = {block["id"].rsplit("-", 1)[-1] for block in edited.blocks[1:]}
    assert ids[1].rsplit("-", 1)[-1] in moved  # position changed, hash did not
    assert ids[3].rsplit("-", 1)[-1] in moved


async def test_a_dry_run_shows_the_fields_that_change_and_a_body_diff(
    folder: Path, mongo: Database, catalog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)).ok
    path = folder / LESSONS / "02-more.mdx"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("title: Going further", "title: Going further still")
        .replace("Plain Markdown text", "Revised Markdown text"),
        encoding="utf-8",
    )
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions, dry_run=True)
    difference = result.diffs["lesson:rest-basics-more"]
    assert difference.fields == ["blocks", "source", "title"]
    assert "-Plain Markdown text about Going further." in difference.body
    assert "+Revised Markdown text about Going further." in difference.body
    out = Console(record=True, width=200)
    print_result(result, out=out, err=Console(record=True), source="content")
    printed = out.export_text()
    assert "update    lesson:rest-basics-more -> v2" in printed
    assert "changed: blocks, source, title" in printed
    assert "+Revised Markdown text about Going further." in printed
    assert result.diffs["course:rest-basics"].fields == ["modules"]  # the outline's title
    stored = await mongo["lesson_content"].find_one({"_id": "lesson:rest-basics-more"})
    assert stored is not None
    assert stored["version"] == 1  # a dry run writes nothing


def test_the_openapi_document_types_blocks_as_a_union_by_kind() -> None:
    schemas = openapi_document()["components"]["schemas"]
    blocks = schemas["LessonWithProgress"]["properties"]["blocks"]["items"]
    assert blocks["discriminator"]["propertyName"] == "kind"
    assert set(blocks["discriminator"]["mapping"]) == {
        "heading", "paragraph", "code", "list", "table", "image", "blockquote",
        "admonition", "math", "component", "expression", "html", "thematic_break", "footnote",
    }  # fmt: skip
    assert "id" in schemas["CodeBlock"]["required"]


# Each snippet with what @mdx-js/mdx 3.1.1 says of it (compiled by hand with
# tests/content/mdx_reference/'s toolchain): None where it compiles, else its error.
MDX_VERDICTS: list[tuple[str, str | None, str | None]] = [
    # (snippet, MDX's error, ours)
    ("I <3 MDX", "Unexpected character `3` before name", "unexpected `3` before name, expected a character that can start a name"),
    ("<!-- c -->", "Unexpected character `!` before name", "unexpected `!` before name, expected a character that can start a name"),
    ("a < b", None, None),
    ("<A b=c />", "Unexpected character `c` before attribute value", "unexpected `c` before attribute value, expected `\"`, `'` or `{`"),
    ("{unclosed", "Unexpected end of file in expression", "unexpected end of file in a tag or expression"),
    ("</A>", "Unexpected closing slash `/` in tag, expected an open tag first", "unexpected closing tag </A>"),
    ("<A>\n\ntext", "Expected a closing tag for `<A>`", "<A> is never closed"),
    ("<A>\n- item\n</A>", None, None),
    ("- <A>\n\n</A>", "Expected a closing tag for `<A>` before the end of `listItem`", "<A> is never closed"),
    ("text <b>bold</b> text", None, None),
    ("<A>text</B>", "Unexpected closing tag `</B>`, expected corresponding closing tag for `<A>`", "unexpected closing tag </B>, expected </A>"),
]  # fmt: skip


@pytest.mark.parametrize(("snippet", "mdx_error", "ours"), MDX_VERDICTS)
def test_mdx_refuses_what_mdx_refuses(
    snippet: str, mdx_error: str | None, ours: str | None
) -> None:
    errors = parse_body(snippet, mdx=True).errors
    assert (errors == []) == (mdx_error is None)
    assert errors == ([] if ours is None else [(0, ours)])


@pytest.mark.parametrize(
    "tag",
    [
        '<Callout type="tip">',
        "</Tabs.Item>",
        "<br />",
        "<Demo interactive height='320' label=\"a > b\"/>",
        '<TabItem\n  value="npm"\n  default\n>',
        "<a-b c-d='e'>",
    ],
)
def test_the_quick_path_for_common_tags_reads_them_as_the_scanner_does(tag: str) -> None:
    assert jsx.quick_tag(tag, 0) is not None
    assert jsx.quick_tag(tag, 0) == jsx.scanned_tag(tag, 0)
