"""Every problem has a stable type and code, declared once, and docs/errors.md lists
them all: checked against the code, so the table stays true."""

import ast
import importlib
import os
import pkgutil
from pathlib import Path

import httpx
import pytest

import syllabus
from syllabus.errors import (
    PROBLEM_TYPE_PREFIX,
    PROBLEM_TYPES,
    AppError,
    Conflict,
    problem_table,
)
from tests.probe import assert_problem

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "syllabus"
DOCS = ROOT / "docs" / "errors.md"
START, END = "<!-- problem-table:start -->\n", "<!-- problem-table:end -->"


def _import_everything() -> None:
    """A code declared in a module only the CLI imports lazily is still a code."""
    for module in pkgutil.walk_packages(syllabus.__path__, "syllabus."):
        importlib.import_module(module.name)


def _families() -> set[str]:
    """Names of the AppError classes that have no code (status families)."""
    found, stack = set(), [AppError]
    while stack:
        cls = stack.pop()
        if cls.code is None:
            found.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return found


def test_the_docs_table_is_every_declared_problem() -> None:
    _import_everything()
    table = problem_table()
    text = DOCS.read_text()
    before, rest = text.split(START)
    current, after = rest.split(END)
    if os.environ.get("SYLLABUS_WRITE_DOCS") == "1":
        DOCS.write_text(before + START + table + END + after)
        current = table
    assert current == table, "docs/errors.md is stale: run with SYLLABUS_WRITE_DOCS=1"
    documented = {line.split("`")[1] for line in current.splitlines()[2:]}
    assert documented == set(PROBLEM_TYPES)
    assert {"already-enrolled", "attempt-limit-reached", "payment-required"} <= documented
    assert "validation-failed" in documented


def test_no_family_is_raised_and_no_blank_type_is_left() -> None:
    """A raise (or construction) of a family, e.g. ``Conflict("…")``, anywhere in src."""
    _import_everything()
    families = _families()
    assert {"AppError", "Conflict", "Forbidden", "Unauthorized"} <= families
    offenders = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        assert "about:blank" not in text, path
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in families:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}(...)")
    assert offenders == []


def test_a_family_cannot_be_raised_and_a_code_is_declared_once() -> None:
    with pytest.raises(TypeError, match="raise a subclass with a code"):
        Conflict("which conflict?")
    with pytest.raises(TypeError, match="taken by AlreadyEnrolled"):

        class Twice(Conflict):
            """Declared twice."""

            code = "already-enrolled"

    with pytest.raises(TypeError, match="kebab-case"):

        class Shouting(Conflict):
            """Not kebab-case."""

            code = "Shouting_Code"

    with pytest.raises(TypeError, match="docstring"):

        class Silent(Conflict):
            code = "silent"

    assert "silent" not in PROBLEM_TYPES


async def test_every_answer_carries_its_code_as_a_stable_urn(
    probe_client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await probe_client.get("/api/v1/_probe/conflict"), 409)
    assert body["type"] == "urn:syllabus:problem:attempt-open"
    assert body["code"] == "attempt-open"
    assert body["title"] == "Attempt already open"
    body = assert_problem(await probe_client.get("/api/v1/nothing-here"), 404)
    assert body["type"] == f"{PROBLEM_TYPE_PREFIX}not-found"
    # The type never depends on the host the request named.
    other = await probe_client.get("/api/v1/nothing-here", headers={"host": "evil.example"})
    assert assert_problem(other, 404)["type"] == body["type"]
