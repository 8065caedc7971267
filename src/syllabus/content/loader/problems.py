"""Problems found in an author's folder, reported as ``file:line: field: message``."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from syllabus.kit.ids import COMPETENCY_CODE_PATTERN


@dataclass(frozen=True, order=True)
class FileProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


def _pattern_message(item: Any) -> str:
    """Say what an id should look like instead of quoting a regular expression."""
    pattern = str(item.get("ctx", {}).get("pattern", ""))
    if pattern == f"^{COMPETENCY_CODE_PATTERN}$":
        return (
            f"{item.get('input')!r} must look like a competency code (lower-case letters "
            "and digits, joined by single dots or hyphens: ege-math.2.1)"
        )
    prefix = re.match(r"^\^\(?([a-z|]+)\)?:", pattern)
    kinds = prefix.group(1).split("|") if prefix else []
    shape = " or ".join(f"{kind}:<slug>" for kind in kinds) if kinds else "a slug"
    return (
        f"{item.get('input')!r} must look like {shape} "
        "(lower-case letters and digits, joined by single hyphens)"
    )


def field_path(loc: tuple[Any, ...]) -> str:
    """``("modules", 0, "items", 2)`` → ``modules[0].items[2]``."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not text:
            text = f"[{part}]"
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


@dataclass(slots=True)
class Lines:
    """Where the keys and items of one file are, to point a problem at its line.

    The line map is built only when a problem is reported: parsing every valid file a
    second time just in case would double the loader's reading time. It holds the file's
    text (through ``line_map``), never its parsed data, so the reader can remember where
    every id was defined without keeping every file's data alive.
    """

    file: str
    line_map: Callable[[], dict[tuple[Any, ...], int]] = dict
    first_line: int = 1
    _lines: dict[tuple[Any, ...], int] | None = None

    def line_of(self, path: tuple[Any, ...]) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        if self._lines is None:
            self._lines = self.line_map()
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return self.first_line


@dataclass(slots=True)
class Located:
    """Parsed data from one file, and where its keys are. Only the :class:`Lines` outlive
    the reading of the file; the data is dropped once the file is validated."""

    data: Any
    lines: Lines

    @property
    def file(self) -> str:
        return self.lines.file

    def line_of(self, path: tuple[Any, ...]) -> int:
        return self.lines.line_of(path)


@dataclass
class Problems:
    items: list[FileProblem] = field(default_factory=list)

    def add(self, file: str, line: int, field: str, message: str) -> None:
        self.items.append(FileProblem(file, line, field, message))

    def at(self, source: Located | Lines, path: tuple[Any, ...], message: str) -> None:
        self.add(source.file, source.line_of(path), field_path(path), message)

    def from_validation(
        self, source: Located, error: ValidationError, prefix: tuple[Any, ...] = ()
    ) -> None:
        for item in error.errors():
            loc = (*prefix, *item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown key"
            elif item["type"] == "missing":
                message = "required"
            elif item["type"] == "string_pattern_mismatch":
                message = _pattern_message(item)
            self.at(source, loc, message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def sorted(self) -> list[FileProblem]:
        return sorted(set(self.items))
