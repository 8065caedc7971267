"""markdown-it tokens → the typed blocks of ``content/blocks.py`` (as plain dicts, the
form they are stored in), the lesson's ESM, and the problems found, with their lines.

What MDX does and this follows: a paragraph holding nothing but JSX elements and
expressions becomes those elements (``<Badge>new</Badge>`` alone on a line is a component,
as @mdx-js/mdx "unravels" it); an expression holding only comments is dropped; flow tags
pair up within the container they are in (a list item, a quote, a component).
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from syllabus.content.loader.lesson.jsx import Expr, Tag, is_comment
from syllabus.content.loader.lesson.slug import Slugger, slug
from syllabus.content.loader.lesson.syntax import DIRECTIVE

Block = dict[str, Any]
PLAIN_HEADING = re.compile(r"[\\`*_\[\]<>!&{}$~]")
TASK = re.compile(r"^\[([ xX])\][ \t]+")
ALIGN = {"text-align:left": "left", "text-align:center": "center", "text-align:right": "right"}
CONTAINERS = {
    "blockquote_open": "blockquote_close",
    "container_directive_open": "container_directive_close",
    "admonition_open": "admonition_close",
    "footnote_reference_open": "footnote_reference_close",
}
NODE_TEXT_TYPES = frozenset(
    {"text", "text_special", "code_inline", "math_inline", "html_inline", "image"}
)


@dataclass
class Parsed:
    blocks: list[Block] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line from 0, message)


@dataclass
class _Node:
    """A top-level piece of a paragraph's inline content, for unravelling."""

    kind: str  # "element", "expression", "space", "other"
    tag: Tag | None = None
    children: list[Token] = field(default_factory=list)
    inner: str = ""
    source: str = ""


class Converter:
    """One body: parsed to block tokens at once; ``convert`` makes the blocks."""

    def __init__(self, md: MarkdownIt, body: str, *, mdx: bool) -> None:
        self.md = md
        self.lines = body.split("\n")
        self.mdx = mdx
        self.result = Parsed()
        # shared with inline parsing: link reference definitions, the format
        self.env: dict[str, Any] = {"mdx": mdx}
        self.tokens: list[Token] = md.parse(body, self.env)

    # -- block level ---------------------------------------------------------------
    def convert(self) -> Parsed:
        blocks, _, _ = self.sequence(0, None, None)
        self.result.blocks = blocks
        assign_ids(blocks)
        return self.result

    def error(self, line: int, message: str) -> None:
        self.result.errors.append((line, message))

    def source(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end])

    def sequence(
        self, index: int, stop: str | None, open_tag: Token | None
    ) -> tuple[list[Block], int, Token | None]:
        """Blocks from ``index`` up to the token of type ``stop`` or, inside a JSX element,
        up to its closing tag. Returns them, the index after the stop (an element left
        open returns the index *of* its container's stop, for the container to take) and
        the closing tag that ended an element."""
        tokens, blocks = self.tokens, list[Block]()
        while index < len(tokens):
            token = tokens[index]
            if token.type == stop:
                if open_tag is not None:
                    self.never_closed(open_tag)
                    return blocks, index, None
                return blocks, index + 1, None
            if token.type != "mdx_jsx_flow":
                index = self.block(index, blocks)
                continue
            tag: Tag = token.meta["tag"]
            if tag.closing:
                if open_tag is not None and open_tag.meta["tag"].name == tag.name:
                    return blocks, index + 1, token
                self.unexpected_closing(token, open_tag)
                index += 1
            elif tag.self_closing:
                blocks.append(component(tag, [], self.source(*span(token))))
                index += 1
            else:
                children, index, closing = self.sequence(index + 1, stop, token)
                end = span(closing or token)[1]
                blocks.append(component(tag, children, self.source(span(token)[0], end)))
        if open_tag is not None:
            self.never_closed(open_tag)
        return blocks, index, None

    def never_closed(self, token: Token) -> None:
        self.error(span(token)[0], f"<{token.meta['tag'].name}> is never closed")

    def unexpected_closing(self, token: Token, open_tag: Token | None) -> None:
        if self.result.errors:  # most likely the closing tag of the malformed one
            return
        name = token.meta["tag"].name
        expected = f", expected </{open_tag.meta['tag'].name}>" if open_tag else ""
        self.error(span(token)[0], f"unexpected closing tag </{name}>{expected}")

    def block(self, index: int, out: list[Block]) -> int:
        """Convert the block starting at ``index`` into ``out``; the index after it."""
        tokens = self.tokens
        token = tokens[index]
        kind = token.type
        start, end = span(token)
        if kind == "paragraph_open":
            out.extend(self.paragraph(tokens[index + 1]))
            return index + 3
        if kind == "heading_open":
            inline = tokens[index + 1]
            anchor = (token.meta or {}).get("anchor")
            out.append(
                {
                    "kind": "heading",
                    "level": int(token.tag[1]),
                    "text": self.plain(inline),
                    "_anchor": anchor,
                    "_source": inline.content,
                }
            )
            return index + 3
        if kind == "fence" and self.mdx and token.info.strip() == "mdx-code-block":
            out.extend(self.unwrapped(token))
            return index + 1
        if kind in ("fence", "code_block"):
            language, _, meta = token.info.strip().partition(" ")
            out.append(
                {
                    "kind": "code",
                    "language": language or None,
                    "meta": meta.strip() or None,
                    "text": token.content.removesuffix("\n"),
                    "_source": token.content,
                }
            )
            return index + 1
        if kind in ("bullet_list_open", "ordered_list_open"):
            return self.listing(index, out)
        if kind in CONTAINERS:
            children, after, _ = self.sequence(index + 1, CONTAINERS[kind], None)
            block = self.container(token, children)
            block["_source"] = self.source(start, end)
            out.append(block)
            return after
        if kind == "table_open":
            return self.table(index, out)
        if kind == "hr":
            out.append({"kind": "thematic_break", "_source": self.source(start, end)})
        elif kind == "html_block":
            out.append(
                {"kind": "html", "html": token.content.removesuffix("\n"), "_source": token.content}
            )
        elif kind in ("math_block", "math_block_label"):
            tex = token.content.strip("\n")
            out.append({"kind": "math", "tex": tex, "_source": tex})
        elif kind == "mdx_esm":
            self.result.imports.append(token.content)
        elif kind == "mdx_flow_expression":
            if not is_comment(token.content):
                out.append(
                    {"kind": "expression", "expression": token.content, "_source": token.content}
                )
        elif kind == "mdx_error":
            self.error(start, token.content)
        return index + 1

    def unwrapped(self, token: Token) -> list[Block]:
        """A Docusaurus ```` ```mdx-code-block ```` fence: its text is MDX of the lesson (the
        fence only keeps other Markdown tools from reading it), so it is parsed in place."""
        inner = Converter(self.md, token.content, mdx=True)
        blocks, _, _ = inner.sequence(0, None, None)
        first = span(token)[0] + 1
        self.result.errors.extend((first + line, message) for line, message in inner.result.errors)
        self.result.imports.extend(inner.result.imports)
        return blocks

    def container(self, token: Token, children: list[Block]) -> Block:
        if token.type == "blockquote_open":
            return {"kind": "blockquote", "children": children}
        if token.type == "footnote_reference_open":
            return {"kind": "footnote", "label": token.meta["label"], "children": children}
        if token.type == "admonition_open":  # MkDocs: !!! type "Title"
            title = token.content or None
            return {
                "kind": "admonition",
                "type": token.meta["tag"],
                "title": title,
                "children": children,
            }
        found = DIRECTIVE.match(token.info)
        assert found is not None  # the container rule only opens on a match
        name, label, rest = found.groups()
        title = label if label is not None else rest
        return {
            "kind": "admonition",
            "type": name,
            "title": self.plain(Token("inline", "", 0, content=title)) or None if title else None,
            "children": children,
        }

    def listing(self, index: int, out: list[Block]) -> int:
        tokens = self.tokens
        opening = tokens[index]
        ordered = opening.type == "ordered_list_open"
        close = "ordered_list_close" if ordered else "bullet_list_close"
        start = opening.attrGet("start")
        items: list[dict[str, Any]] = []
        index += 1
        while tokens[index].type != close:
            children, index, _ = self.sequence(index + 1, "list_item_close", None)
            checked = None
            if children and children[0]["kind"] == "paragraph":
                task = TASK.match(children[0]["markdown"])
                if task:
                    checked = task.group(1) != " "
                    children[0]["markdown"] = children[0]["markdown"][task.end() :]
            items.append({"checked": checked, "children": children})
        out.append(
            {
                "kind": "list",
                "ordered": ordered,
                "start": (int(start) if start is not None else 1) if ordered else None,
                "items": items,
                "_source": self.source(*span(opening)),
            }
        )
        return index + 1

    def table(self, index: int, out: list[Block]) -> int:
        tokens = self.tokens
        opening = tokens[index]
        align: list[str | None] = []
        header: list[str] = []
        rows: list[list[str]] = []
        row: list[str] = []
        while tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "th_open":
                align.append(ALIGN.get(str(token.attrGet("style"))))
                header.append(tokens[index + 1].content)
            elif token.type == "td_open":
                row.append(tokens[index + 1].content)
            elif token.type == "tr_close" and row:
                rows.append(row)
                row = []
            index += 1
        out.append(
            {
                "kind": "table",
                "align": align,
                "header": header,
                "rows": rows,
                "_source": self.source(*span(opening)),
            }
        )
        return index + 1

    # -- inline level --------------------------------------------------------------
    def inline(self, token: Token) -> list[Token]:
        if not token.children:
            children: list[Token] = []
            self.md.inline.parse(token.content, self.md, self.env, children)
            token.children = children
            for child in children:
                if child.type == "mdx_error":
                    self.error(span(token)[0] + child.meta["line"], child.content)
        return token.children

    def plain(self, token: Token) -> str:
        """The text of inline content without markup (as mdast-util-to-string gives it)."""
        if not PLAIN_HEADING.search(token.content):
            return token.content.strip()
        return "".join(_texts(self.inline(token))).strip()

    def paragraph(self, token: Token) -> list[Block]:
        content = token.content
        if self.mdx and ("<" in content or "{" in content):
            children = self.inline(token)
            nodes = self.nodes(children, content, span(token)[0])
            if nodes is not None:
                return self.unravel(nodes)
            content = _without_comments(children, content)
        elif content.lstrip().startswith("!["):
            children = self.inline(token)
        else:
            children = []
        if not content.strip():
            return []
        solid = [
            child for child in children if not (child.type == "text" and not child.content.strip())
        ]
        solid = [child for child in solid if child.type not in ("softbreak", "hardbreak")]
        if len(solid) == 1 and solid[0].type == "image":
            image = solid[0]
            return [
                {
                    "kind": "image",
                    "src": str(image.attrGet("src")),
                    "alt": image.content,
                    "title": image.attrGet("title"),
                    "_source": content,
                }
            ]
        return [{"kind": "paragraph", "markdown": content, "_source": content}]

    def nodes(self, children: list[Token], content: str, line: int) -> list[_Node] | None:
        """The paragraph as top-level elements, expressions and blanks, or ``None`` when
        it holds anything else (then it stays a paragraph). Unbalanced tags are problems."""
        nodes: list[_Node] = []
        stack: list[tuple[Tag, int]] = []
        only_jsx = True
        for position, child in enumerate(children):
            if child.type == "mdx_jsx_inline":
                tag: Tag = child.meta["tag"]
                if tag.closing:
                    if not stack or stack[-1][0].name != tag.name:
                        expected = f", expected </{stack[-1][0].name}>" if stack else ""
                        self.error(
                            line + content.count("\n", 0, tag.start),
                            f"unexpected closing tag </{tag.name}>{expected}",
                        )
                        return None
                    opened, first = stack.pop()
                    if not stack:
                        nodes.append(
                            _Node(
                                "element",
                                opened,
                                children[first:position],
                                content[opened.end : tag.start],
                                content[opened.start : tag.end],
                            )
                        )
                elif tag.self_closing:
                    if not stack:
                        nodes.append(_Node("element", tag, source=content[tag.start : tag.end]))
                else:
                    stack.append((tag, position + 1))
            elif stack:
                continue
            elif child.type == "mdx_expression_inline":
                nodes.append(_Node("expression", inner=child.content))
            elif child.type in ("softbreak", "hardbreak") or (
                child.type == "text" and not child.content.strip()
            ):
                nodes.append(_Node("space"))
            else:
                only_jsx = False
        if stack:
            tag = stack[-1][0]
            self.error(line + content.count("\n", 0, tag.start), f"<{tag.name}> is never closed")
            return None
        if not only_jsx or not any(node.kind != "space" for node in nodes):
            return None
        return nodes

    def unravel(self, nodes: list[_Node]) -> list[Block]:
        blocks: list[Block] = []
        for node in nodes:
            if node.kind == "expression" and not is_comment(node.inner):
                blocks.append(
                    {"kind": "expression", "expression": node.inner, "_source": node.inner}
                )
            elif node.kind == "element":
                assert node.tag is not None
                inner = self.nodes(node.children, node.inner, 0) if node.children else None
                if inner is not None:
                    children = self.unravel(inner)
                elif node.inner.strip():
                    children = [
                        {"kind": "paragraph", "markdown": node.inner.strip(), "_source": node.inner}
                    ]
                else:
                    children = []
                blocks.append(component(node.tag, children, node.source))
        return blocks


def span(token: Token) -> tuple[int, int]:
    """The lines a block token covers (``[start, end)``, from 0)."""
    return (token.map[0], token.map[1]) if token.map else (0, 0)


def _texts(children: list[Token]) -> Iterator[str]:
    for child in children:
        if child.type in NODE_TEXT_TYPES:
            yield child.content
        elif child.type == "softbreak":
            yield "\n"


def _without_comments(children: list[Token], content: str) -> str:
    """The paragraph's Markdown without its ``{/* comments */}``."""
    cuts = [
        (child.meta["start"], child.meta["end"])
        for child in children
        if child.type == "mdx_expression_inline" and is_comment(child.content)
    ]
    for start, end in reversed(cuts):
        content = content[:start] + content[end:]
    return content.strip() if cuts else content


def prop_value(value: str | bool | Expr) -> Any:
    if not isinstance(value, Expr):
        return value
    prop: dict[str, Any] = {"expression": value.source, "value": None}
    text = value.source.strip()
    if text and text[0] in '-0123456789"[{tfn':  # could be a JSON literal
        with contextlib.suppress(ValueError):
            prop["value"] = json.loads(text)
    return prop


def component(tag: Tag, children: list[Block], source: str) -> Block:
    return {
        "kind": "component",
        "name": tag.name,
        "props": {name: prop_value(value) for name, value in tag.attributes},
        "spread": list(tag.spread),
        "children": children,
        "_source": source,
    }


def assign_ids(blocks: list[Block]) -> None:
    """The block id rule (content/blocks.py): headings by slug, the others by position in
    reading order and a hash of their source."""
    slugger = Slugger()
    position = 0

    def visit(items: list[Block]) -> None:
        nonlocal position
        for block in items:
            position += 1
            source = block.pop("_source", "")
            if block["kind"] == "heading":
                anchor = block.pop("_anchor", None)
                block["id"] = slugger.unique(anchor or slug(block["text"]) or "heading")
            else:
                digest = hashlib.sha256(source.encode()).hexdigest()[:8]
                block["id"] = slugger.unique(
                    f"{block['kind'].replace('_', '-')}-{position}-{digest}"
                )
            for child in block.get("children", ()):
                visit([child])
            for item in block.get("items", ()):
                visit(item["children"])

    visit(blocks)
