"""The hand-written lesson parser the loader used before markdown-it-py (loader format 1),
kept only as the baseline of ``bench.lesson_parser``: its splitting (fences, block
components, Markdown between them), unchanged, with its three kinds of block written as
the typed blocks of today's model so the rest of the load is the same work."""

import re
from itertools import count

from syllabus.content.loader.lesson.convert import Parsed

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)\s*$")
OPEN = re.compile(
    r'^<(?P<name>[A-Z][A-Za-z0-9]*)(?P<attrs>(?:\s+[A-Za-z][\w-]*="[^"]*")*)\s*(?P<self>/?)>\s*$'
)
ATTRIBUTE = re.compile(r'([A-Za-z][\w-]*)="([^"]*)"')


def parse_body(body: str, *, mdx: bool) -> Parsed:
    result = Parsed()
    numbers = count(1)
    markdown: list[str] = []
    lines = body.split("\n")

    def paragraph(text: str) -> dict[str, object]:
        return {"kind": "paragraph", "id": f"paragraph-{next(numbers)}", "markdown": text}

    def flush() -> None:
        text = "\n".join(markdown).strip("\n")
        if text.strip():
            result.blocks.append(paragraph(text))
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
                result.errors.append((index, "code block is never closed"))
                return result
            result.blocks.append(
                {
                    "kind": "code",
                    "id": f"code-{next(numbers)}",
                    "language": fence["lang"] or None,
                    "meta": None,
                    "text": "\n".join(lines[index + 1 : end]),
                }
            )
            index = end + 1
            continue
        if opening:
            flush()
            name = opening["name"]
            props = dict(ATTRIBUTE.findall(opening["attrs"]))
            block: dict[str, object] = {
                "kind": "component",
                "id": f"component-{next(numbers)}",
                "name": name,
                "props": props,
                "spread": [],
                "children": [],
            }
            result.blocks.append(block)
            if opening["self"]:
                index += 1
                continue
            closing = f"</{name}>"
            end = next(
                (n for n in range(index + 1, len(lines)) if lines[n].strip() == closing), None
            )
            if end is None:
                result.errors.append((index, f"<{name}> is never closed"))
                return result
            text = "\n".join(lines[index + 1 : end]).strip("\n")
            if text:
                block["children"] = [paragraph(text)]
            index = end + 1
            continue
        markdown.append(line)
        index += 1
    flush()
    return result
