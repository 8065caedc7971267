"""Scanning the JavaScript parts of MDX: braced expressions and JSX tags.

This follows the MDX 2/3 syntax as micromark-extension-mdx-jsx and
micromark-extension-mdx-expression read it: a ``<`` followed by whitespace is plain text
(``a < b``); anything else after ``<`` must be a well-formed tag, or it is an error
(``<3``, ``<!-- -->``, ``<Callout type=tip>``), as MDX reports it.
Expressions end at the brace that balances the opening one, strings, template literals and
comments skipped (MDX asks acorn where the expression ends; this finds the same end for
what lessons contain, without a JavaScript parser).
"""

import re
from dataclasses import dataclass, field

WHITESPACE = " \t\n\r\f\v\u00a0\ufeff"


class Incomplete(Exception):
    """The text ended inside the construct: more lines may complete it."""


class JsxError(Exception):
    """Malformed MDX; ``offset`` is where in the scanned text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Expr:
    source: str  # between the braces, as written


@dataclass(slots=True)
class Tag:
    name: str  # "" for a fragment
    closing: bool
    self_closing: bool
    start: int
    end: int  # offset just past ``>``
    attributes: list[tuple[str, str | bool | Expr]] = field(default_factory=list)
    spread: list[str] = field(default_factory=list)


def _id_start(char: str) -> bool:
    return char.isidentifier() or char == "$"


def _id_continue(char: str) -> bool:
    return ("a" + char).isidentifier() or char in "$-\u200c\u200d"


def scan_expression(text: str, start: int) -> int:
    """``text[start]`` is ``{``: the offset just past its closing brace."""
    stack = ["{"]
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if stack[-1] == "`":
            if char == "\\":
                i += 2
                continue
            if char == "`":
                stack.pop()
            elif char == "$" and text.startswith("{", i + 1):
                stack.append("${")
                i += 1
            i += 1
            continue
        if char in "\"'":
            i += 1
            while i < n and text[i] != char:
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise Incomplete
        elif char == "`":
            stack.append("`")
        elif char == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            if end < 0:
                raise Incomplete
            i = end
            continue
        elif char == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise Incomplete
            i = end + 2
            continue
        elif char == "{":
            stack.append("{")
        elif char == "}":
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    raise Incomplete


def is_comment(source: str) -> bool:
    """An expression holding only comments (``{/* note to self */}``): MDX drops it."""
    rest = source.strip()
    while rest:
        if rest.startswith("/*"):
            end = rest.find("*/", 2)
            if end < 0:
                return False
            rest = rest[end + 2 :].lstrip()
        elif rest.startswith("//"):
            end = rest.find("\n")
            rest = "" if end < 0 else rest[end + 1 :].lstrip()
        else:
            return False
    return bool(source.strip())


class _Scanner:
    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start
        self.i = start

    def peek(self) -> str:
        if self.i >= len(self.text):
            raise Incomplete
        return self.text[self.i]

    def space(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in WHITESPACE:
            self.i += 1

    def crash(self, what: str, expected: str) -> JsxError:
        char = self.text[self.i]
        shown = "line ending" if char == "\n" else f"`{char}`"
        return JsxError(f"unexpected {shown} {what}, expected {expected}", self.i)

    def identifier(self, what: str) -> str:
        first = self.peek()
        if not _id_start(first):
            raise self.crash(f"before {what}", "a character that can start a name")
        begin = self.i
        self.i += 1
        while self.i < len(self.text) and _id_continue(self.text[self.i]):
            self.i += 1
        return self.text[begin : self.i]

    def name(self) -> str:
        """``Name``, ``Tabs.Item``, ``svg:rect``."""
        name = self.identifier("name")
        self.space()
        if self.peek() == ".":
            while self.peek() == ".":
                self.i += 1
                self.space()
                name += "." + self.identifier("member name")
                self.space()
        elif self.peek() == ":":
            self.i += 1
            self.space()
            name += ":" + self.identifier("local name")
            self.space()
        return name

    def expression(self) -> str:
        end = scan_expression(self.text, self.i)
        source = self.text[self.i + 1 : end - 1]
        self.i = end
        return source

    def attributes(self, tag: Tag) -> None:
        while True:
            self.space()
            char = self.peek()
            if char in "/>":
                return
            if char == "{":
                source = self.expression()
                if not source.lstrip().startswith("..."):
                    raise JsxError("unexpected expression in a tag, expected `{...spread}`", self.i)
                tag.spread.append(source.strip())
                continue
            if not _id_start(char):
                raise self.crash("before attribute name", "an attribute, `/` or `>`")
            begin = self.i
            self.i += 1
            while self.i < len(self.text) and _id_continue(self.text[self.i]):
                self.i += 1
            self.space()
            if self.peek() == ":":
                self.i += 1
                self.space()
                self.identifier("local attribute name")
                self.space()
            attribute = "".join(self.text[begin : self.i].split())
            if attribute.startswith("$"):  # valid JSX, but not a MongoDB field name
                raise JsxError(
                    f"attribute `{attribute}`: names starting with `$` are not stored", begin
                )
            if self.peek() != "=":
                tag.attributes.append((attribute, True))
                continue
            self.i += 1
            self.space()
            quote = self.peek()
            if quote in "\"'":
                end = self.text.find(quote, self.i + 1)
                if end < 0:
                    raise Incomplete
                tag.attributes.append((attribute, self.text[self.i + 1 : end]))
                self.i = end + 1
            elif quote == "{":
                tag.attributes.append((attribute, Expr(self.expression())))
            else:
                raise self.crash("before attribute value", "`\"`, `'` or `{`")


_NAME = r"[A-Za-z_][\w-]*"
SIMPLE_TAG = re.compile(
    rf"<(/?)({_NAME}(?:\.{_NAME})*)((?:\s+{_NAME}(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'))?)*)\s*(/?)>"
)
SIMPLE_ATTRIBUTE = re.compile(rf"({_NAME})(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'))?")


def quick_tag(text: str, start: int) -> Tag | None:
    """The common shapes (``<Callout type="tip">``, ``</Tabs.Item>``, ``<br />``) by one
    regular expression; anything else (expressions, namespaces, odd spacing, errors) is
    left to the scanner, which reads it the same way."""
    found = SIMPLE_TAG.match(text, start)
    if found is None:
        return None
    closing, name, attributes, self_closing = found.groups()
    if closing and (attributes or self_closing):
        return None
    tag = Tag(name, bool(closing), bool(self_closing), start, found.end())
    for attribute in SIMPLE_ATTRIBUTE.finditer(attributes):
        key, double, single = attribute.groups()
        value = double if double is not None else single
        tag.attributes.append((key, True if value is None else value))
    return tag


def scan_tag(text: str, start: int) -> Tag | None:
    """``text[start]`` is ``<``: the tag there, or ``None`` when it is plain text
    (``a < b``). Raises :class:`Incomplete` when the text ends inside the tag and
    :class:`JsxError` when it is malformed."""
    simple = quick_tag(text, start)
    return simple if simple is not None else scanned_tag(text, start)


def scanned_tag(text: str, start: int) -> Tag | None:
    """:func:`scan_tag` by the character-by-character scanner alone."""
    scan = _Scanner(text, start + 1)
    char = scan.peek()
    closing = char == "/"
    if closing:
        scan.i += 1
        scan.space()
        char = scan.peek()
    if char in WHITESPACE and not closing:
        return None
    if not (char == ">" or _id_start(char)):
        raise scan.crash("before name", "a character that can start a name")
    tag = Tag(name="", closing=closing, self_closing=False, start=start, end=start)
    if char != ">":
        tag.name = scan.name()
        if not closing:
            scan.attributes(tag)
    scan.space()
    if scan.peek() == "/":
        if closing:
            raise scan.crash("in a closing tag", "`>`")
        scan.i += 1
        scan.space()
        tag.self_closing = True
    if scan.peek() != ">":
        raise scan.crash("in a tag", "`>`")
    tag.end = scan.i + 1
    return tag
