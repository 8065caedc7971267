"""The Markdown parsers: markdown-it-py (CommonMark) with mdit-py-plugins, and for ``.mdx``
our MDX plugin, as @mdx-js/mdx reads the two formats:

- ``.mdx``: MDX 2/3. ESM (``import``/``export`` at the start of a top-level line), JSX
  (flow tags on their own lines, possibly spanning lines and nested; inline tags in
  text) and braced expressions. Like MDX, no raw HTML, no indented code and no ``<url>``
  autolinks: ``<`` starts JSX and indentation is free.
- ``.md``: CommonMark with raw HTML and indented code, plus MkDocs ``!!! note``
  admonitions (Python-Markdown's syntax, which MkDocs lessons use).

Both: GFM tables and strikethrough, footnotes, ``$…$``/``$$…$$`` math, ``:::type[Title]``
directives for admonitions (Docusaurus, Starlight; the older ``:::type Title`` too), and a
``{#custom-id}`` after a heading's text (Docusaurus). The front matter is split off before
(``loader/parse.py``, which also handles a byte order mark, CRLF and a missing block), so
these parsers only ever see the body.
"""

import re
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from syllabus.content.loader.lesson.jsx import Incomplete, JsxError, Tag, scan_expression, scan_tag

DIRECTIVE = re.compile(r"^\s*([A-Za-z][\w-]*)\s*(?:\[(.*)\])?\s*(?:\{[^}]*\})?\s*(.*?)\s*$")
HEADING_ID = re.compile(r"\s*\\?\{#([^\s{}]+)\}\s*$")
COMMENT_HEADING_ID = re.compile(r"\s*\{/\*\s*(\S+?)\s*\*/\}\s*$")  # react.dev: {/*id*/}
TERMINATES = ["paragraph", "reference", "blockquote", "list"]


def _directive(params: str, _markup: str) -> bool:
    return DIRECTIVE.match(params) is not None


def _esm(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``import``/``export`` at column 1 of a top-level line, up to a blank line after
    which the statement is complete (brackets and strings closed); cannot interrupt a
    paragraph."""
    begin = state.bMarks[start_line]
    at_line_start = begin == 0 or state.src[begin - 1] == "\n"  # not after a quote's `>`
    if state.blkIndent or state.tShift[start_line] or not at_line_start:
        return False
    if not state.src.startswith(("import ", "export "), begin):
        return False
    if silent:
        return True
    line = start_line + 1
    while line < end_line:
        if state.isEmpty(line) and _complete(state.src[begin : state.eMarks[line - 1]]):
            break
        line += 1
    token = state.push("mdx_esm", "", 0)
    token.content = state.src[begin : state.eMarks[line - 1]]
    token.map = [start_line, line]
    state.line = line
    return True


def _complete(source: str) -> bool:
    try:
        scan_expression("{" + source + "\n}", 0)
    except Incomplete:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _FlowLine:
    """What a flow line holds: its tags and expressions (``(start, end, tag or source)``
    in ``text``), the offset in ``text`` of each line it spans, the error that ended it,
    and its last line."""

    items: list[tuple[int, int, Tag | str]]
    starts: list[int]
    error: JsxError | None
    last_line: int


def _flow(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A line (or lines) of nothing but JSX tags and braced expressions. A paragraph asks
    first (``silent``) whether the line ends it; the scan is kept for the real call."""
    first = state.bMarks[start_line] + state.tShift[start_line]
    if first >= state.eMarks[start_line] or state.src[first] not in "<{":
        return False
    scans = state.env.setdefault("mdx_flow", {})
    key = (first, end_line, state.blkIndent)
    if key not in scans:
        scans[key] = _scan_flow(state, first, start_line, end_line)
    scan: _FlowLine | None = scans[key]
    if scan is None:
        return False
    if not silent:
        lines = list(range(start_line, scan.last_line + 1))
        _push_flow(state, lines, scan.starts, scan.items, scan.error)
        state.line = scan.last_line + 1
    return True


def _scan_flow(state: StateBlock, first: int, start_line: int, end_line: int) -> _FlowLine | None:
    text = state.src[first : state.eMarks[start_line]]
    starts = [0]
    line = start_line
    items: list[tuple[int, int, Tag | str]] = []
    error: JsxError | None = None
    i = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i == len(text):
            break
        if text[i] not in "<{":
            return None
        try:
            if text[i] == "<":
                tag = scan_tag(text, i)
                if tag is None:
                    return None
                items.append((i, tag.end, tag))
                i = tag.end
            else:
                end = scan_expression(text, i)
                items.append((i, end, text[i + 1 : end - 1]))
                i = end
        except Incomplete:
            if line + 1 >= end_line:
                error = JsxError("unexpected end of file in a tag or expression", len(text))
                break
            line += 1
            starts.append(len(text) + 1)
            text += "\n" + _continuation(state, line)
            continue
        except JsxError as crash:
            error = crash
            break
    return _FlowLine(items, starts, error, line)


def _push_flow(
    state: StateBlock,
    lines: list[int],
    starts: list[int],
    items: list[tuple[int, int, Tag | str]],
    error: JsxError | None,
) -> None:
    """The tokens of a flow line: each tag and expression, then the error that ended it."""

    def line_of(offset: int) -> int:
        return lines[0] + sum(1 for start in starts[1:] if start <= offset)

    for start, end, item in items:
        if isinstance(item, Tag):
            token = state.push("mdx_jsx_flow", "", 0)
            token.meta = {"tag": item}
        else:
            token = state.push("mdx_flow_expression", "", 0)
            token.content = item
        token.map = [line_of(start), line_of(end) + 1]
    if error is not None:
        token = state.push("mdx_error", "", 0)
        token.content = error.message
        token.map = [line_of(error.offset), lines[-1] + 1]


def _continuation(state: StateBlock, line: int) -> str:
    """A further line of a flow tag or expression: without its container's indentation
    and at most two more spaces, as MDX strips them."""
    strip = min(state.tShift[line], state.blkIndent + 2)
    return state.src[state.bMarks[line] + strip : state.eMarks[line]]


def _inline_jsx(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "<":
        return False
    try:
        tag = scan_tag(state.src, state.pos)
    except Incomplete:
        return _inline_error(state, silent, "unexpected end of paragraph in a tag")
    except JsxError as crash:
        return _inline_error(state, silent, crash.message)
    if tag is None:
        return False
    if not silent:
        token = state.push("mdx_jsx_inline", "", 0)
        token.meta = {"tag": tag}
    state.pos = tag.end
    return True


def _inline_expression(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "{":
        return False
    try:
        end = scan_expression(state.src, state.pos)
    except Incomplete:
        return _inline_error(state, silent, "unexpected end of paragraph in an expression")
    if not silent:
        token = state.push("mdx_expression_inline", "", 0)
        token.content = state.src[state.pos + 1 : end - 1]
        token.meta = {"start": state.pos, "end": end}
    state.pos = end
    return True


def _inline_error(state: StateInline, silent: bool, message: str) -> bool:
    if not silent:
        token = state.push("mdx_error", "", 0)
        token.content = message
        token.meta = {"line": state.src.count("\n", 0, state.pos)}
    state.pos = state.posMax
    return True


def _heading_ids(state: StateCore) -> None:
    """``## Title {#custom-id}`` (Docusaurus, and ``{/*custom-id*/}`` in MDX, as react.dev
    writes it): the id is taken out of the text before inline parsing."""
    tokens = state.tokens
    patterns = (HEADING_ID, COMMENT_HEADING_ID) if state.env.get("mdx") else (HEADING_ID,)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            for pattern in patterns:
                found = pattern.search(inline.content)
                if found:
                    token.meta = {"anchor": found.group(1)}
                    inline.content = inline.content[: found.start()]
                    break


def _base(*, mdx: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": 50}).enable(["table", "strikethrough"])
    footnote_plugin(md)
    dollarmath_plugin(md, allow_labels=False, allow_space=True, allow_digits=True)
    container_plugin(md, name="directive", validate=_directive)
    md.core.ruler.before("inline", "heading_ids", _heading_ids)
    if mdx:
        md.disable(["html_block", "html_inline", "code", "autolink"])
        md.block.ruler.before("table", "mdx_esm", _esm)
        md.block.ruler.before("table", "mdx_flow", _flow, {"alt": TERMINATES})
        md.inline.ruler.before("html_inline", "mdx_jsx_inline", _inline_jsx)
        md.inline.ruler.before("html_inline", "mdx_expression_inline", _inline_expression)
    else:
        admon_plugin(md)
    return md


@cache
def parser(*, mdx: bool, without: tuple[str, ...] = ()) -> MarkdownIt:
    """One parser per format (``without`` some rules, for the tests that show what a rule
    changes). Its core stops after the block structure: inline content is parsed later
    with ``md.inline``, only where it is needed (``convert``), because most paragraphs
    need nothing from it. Footnote definitions stay where they are written."""
    md = _base(mdx=mdx)
    md.disable(["inline", "text_join", "footnote_tail", *without])
    return md
