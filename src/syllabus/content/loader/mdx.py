"""Splitting an MDX lesson body into the structured blocks stored beside the source.

Recognised, each on its own lines: fenced code blocks, and block components
``<Name attr="v">…</Name>`` or ``<Name attr="v" />``. Everything else is Markdown. This
is deliberately not a full MDX compiler: clients render the blocks; the loader only has
to find them reliably and say where a block is left open.
"""

import re
from dataclasses import dataclass, field

from syllabus.content.documents import LessonBlock

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)\s*$")
OPEN = re.compile(
    r'^<(?P<name>[A-Z][A-Za-z0-9]*)(?P<attrs>(?:\s+[A-Za-z][\w-]*="[^"]*")*)\s*(?P<self>/?)>\s*$'
)
ATTRIBUTE = re.compile(r'([A-Za-z][\w-]*)="([^"]*)"')


@dataclass
class ParsedBody:
    blocks: list[LessonBlock] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def parse_blocks(body: str, *, first_line: int = 1) -> ParsedBody:
    result = ParsedBody()
    markdown: list[str] = []
    lines = body.split("\n")

    def flush() -> None:
        text = "\n".join(markdown).strip("\n")
        if text.strip():
            result.blocks.append(LessonBlock(kind="markdown", text=text))
        markdown.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        opening = OPEN.match(line)
        if fence:
            flush()
            marker = fence["fence"]
            end = next(
                (
                    n
                    for n in range(index + 1, len(lines))
                    if lines[n].strip().startswith(marker[0] * len(marker))
                    and not lines[n].strip().strip(marker[0])
                ),
                None,
            )
            if end is None:
                result.errors.append((first_line + index, "code block is never closed"))
                return result
            result.blocks.append(
                LessonBlock(
                    kind="code",
                    language=fence["lang"] or None,
                    text="\n".join(lines[index + 1 : end]),
                )
            )
            index = end + 1
            continue
        if opening:
            flush()
            name = opening["name"]
            props = dict(ATTRIBUTE.findall(opening["attrs"]))
            if opening["self"]:
                result.blocks.append(LessonBlock(kind="component", component=name, props=props))
                index += 1
                continue
            closing = f"</{name}>"
            end = next(
                (n for n in range(index + 1, len(lines)) if lines[n].strip() == closing), None
            )
            if end is None:
                result.errors.append((first_line + index, f"<{name}> is never closed"))
                return result
            result.blocks.append(
                LessonBlock(
                    kind="component",
                    component=name,
                    props=props,
                    text="\n".join(lines[index + 1 : end]).strip("\n"),
                )
            )
            index = end + 1
            continue
        markdown.append(line)
        index += 1
    flush()
    return result
