"""Reading author files: strict UTF-8, strict JSON, YAML front matter, and the line of
every key, so each problem can point at the line to fix."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from syllabus.content.loader.problems import Lines, Located, Problems

try:
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as YamlLoader  # type: ignore[assignment]

FRONT_MATTER_FENCE = "---"


def read_text(path: Path, rel: str, problems: Problems) -> str | None:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(
            rel, line, "(file)", f"not UTF-8: byte 0x{raw[error.start]:02x} at offset {error.start}"
        )
        return None


def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            out[child] = key.start_mark.line + 1
            _line_map(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            child = (*path, index)
            out[child] = value.start_mark.line + 1
            _line_map(value, child, out)


def line_map(text: str, offset: int = 0) -> dict[tuple[Any, ...], int]:
    """Lines of keys and items, from YAML's parser (JSON is close enough to YAML for
    locating things; it is *validated* by the strict JSON parser)."""
    try:
        node = yaml.compose(text, Loader=YamlLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1 + offset
        _line_map(node, (), lines)
    return {path: line + offset if path else line for path, line in lines.items()}


def load_json(rel: str, text: str, problems: Problems) -> Located | None:
    duplicates: list[str] = []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as error:
        problems.add(
            rel, error.lineno, "(json)", f"invalid JSON: {error.msg} (column {error.colno})"
        )
        return None
    source = Located(data, Lines(rel, lambda: line_map(text)))
    for key in duplicates:
        problems.add(rel, _first_line_of_key(text, key), key, "duplicate key")
    return source


def _first_line_of_key(text: str, key: str) -> int:
    needle = json.dumps(key)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[-1] if lines else 1


@dataclass(frozen=True, slots=True)
class LessonText:
    """A lesson file split into its front matter and its body."""

    front_matter: Located | None  # None: the file has no front matter
    body: str  # line endings normalised to "\n", for the parser
    source: str  # the body byte for byte as in the file (CRLF kept)
    body_line: int  # the file line the body starts on


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lesson(rel: str, text: str, problems: Problems) -> LessonText | None:
    """``---\nYAML\n---\nbody``, or a body alone. A UTF-8 byte order mark is dropped and
    CRLF line endings are read as line breaks (``source`` keeps them)."""
    text = text.removeprefix("\ufeff")
    normal = text if "\r" not in text else LINE_BREAK.sub("\n", text)
    lines = normal.split("\n")
    if lines[0].rstrip() != FRONT_MATTER_FENCE:
        return LessonText(None, normal, text, 1)
    end = next(
        (n for n in range(1, len(lines)) if lines[n].rstrip() in (FRONT_MATTER_FENCE, "...")),
        None,
    )
    if end is None:
        problems.add(rel, 1, "(front matter)", "has no closing '---' line")
        return None
    yaml_text = "\n".join(lines[1:end])
    try:
        data = yaml.load(yaml_text, Loader=YamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        problems.add(rel, line, "(front matter)", f"invalid YAML: {problem}")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.add(rel, 2, "(front matter)", "must be a mapping of keys to values")
        return None
    source = Located(data, Lines(rel, lambda: line_map(yaml_text, offset=1)))
    body = "\n".join(lines[end + 1 :])
    if normal is text:
        exact = body
    else:
        breaks = list(LINE_BREAK.finditer(text))
        exact = text[breaks[end].end() :] if end < len(breaks) else ""
    return LessonText(source, body, exact, end + 2)
