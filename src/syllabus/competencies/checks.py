"""Automatic practice checks (``POST /practices/{id}/checks``): a learner's answer checked
against what the practice defines, the outcome recorded, a failure turned into a feedback
ticket and a pass into the practice's progress.

What a practice can define:

- pattern checks (``contains``, ``regex``) on the answer's text, as the HTTP practice
  has: each passes or fails with its own learner-facing ``description``;
- ``sample_data`` (SQL practices): the answer is a query, run in the PostgreSQL sandbox
  (:mod:`syllabus.db.sandbox`) and compared with the reference query's result, as an
  ordered list of rows or a multiset, as the practice says.

Checks that need a runner we do not have (``output_equals``, ``test``) make a practice
not automatically checkable: refused, never passed by default. The message never
quotes the reference query or the expected values; it says what differs.
"""

import re
from collections import Counter, OrderedDict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access.service import EnrollmentRequired
from syllabus.assessment.hooks import GradedItem, GradedWork
from syllabus.competencies import repository
from syllabus.competencies.schemas import CheckOutcome, CheckResult
from syllabus.competencies.service import record_graded
from syllabus.content import service as content
from syllabus.content.documents import PracticeContent
from syllabus.db.sandbox import QueryRefused, QueryResult, SampleTable, Sandbox, schema_for
from syllabus.errors import Conflict
from syllabus.identity.models import User
from syllabus.learning import service as learning
from syllabus.learning.repository import item_target

PATTERN_KINDS = ("contains", "regex")
RESULT_CHECK = "The query's result matches the expected result"
REFERENCE_CACHE_ENTRIES = 256


class PracticeNotCheckable(Conflict):
    """The practice has no automatic check (or one that needs a runner this service
    does not have): submit it for review instead."""

    title = "Practice not automatically checkable"
    code = "practice-not-checkable"


class SandboxUnavailable(Conflict):
    """The SQL practice's sample data or reference query does not run in the sandbox
    (the practice is broken, or the sandbox is not provisioned): nothing was recorded."""

    title = "SQL sandbox unavailable"
    code = "sql-sandbox-unavailable"


_references: OrderedDict[tuple[str, str, int], QueryResult] = OrderedDict()
"""Reference results by (schema, reference query, row limit): the schema is immutable
(named by its data), so a result never goes stale; an LRU bounds it."""


def sample_tables(practice: PracticeContent) -> list[SampleTable]:
    assert practice.sample_data is not None
    return [
        SampleTable(
            name=table.name,
            columns=tuple(table.columns.items()),
            rows=tuple(tuple(row) for row in table.rows),
        )
        for table in practice.sample_data.tables
    ]


def _pattern_results(practice: PracticeContent, answer: str) -> list[CheckResult]:
    results = []
    for check in practice.checks:
        if check.kind == "contains":
            passed = check.expected in answer
        else:
            passed = re.search(check.expected, answer) is not None
        results.append(CheckResult(description=check.description or check.kind, passed=passed))
    return results


def _same(value: Any) -> Any:
    """A value as results compare it: numbers by value (a float by its shortest
    decimal, so ``12.3`` equals numeric ``12.30``), arrays and records as tuples."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list | tuple):
        return tuple(_same(item) for item in value)
    return value


def _shape(expected: QueryResult, got: QueryResult, *, max_rows: int) -> str:
    if got.truncated:
        return (
            f"Your query returned more than {max_rows} rows; "
            f"the expected result has {len(expected.rows)}."
        )
    if len(got.columns) != len(expected.columns):
        return (
            f"Your result has {len(got.columns)} columns; the expected result has "
            f"{len(expected.columns)}: {', '.join(expected.columns)}."
        )
    if got.columns != expected.columns:
        return (
            f"Your columns are named {', '.join(got.columns)}; "
            f"the expected ones are {', '.join(expected.columns)}."
        )
    if len(got.rows) != len(expected.rows):
        return (
            f"Your query returned {len(got.rows)} rows; "
            f"the expected result has {len(expected.rows)}."
        )
    return ""


def compare(expected: QueryResult, got: QueryResult, *, ordered: bool, max_rows: int) -> str:
    """Empty when ``got`` is the expected result; else what differs, in words that never
    show an expected value: the shape (row limit, columns, row count), then the rows."""
    shape = _shape(expected, got, max_rows=max_rows)
    if shape:
        return shape
    want = [_same(row) for row in expected.rows]
    have = [_same(row) for row in got.rows]
    if Counter(have) != Counter(want):
        extra = sum((Counter(have) - Counter(want)).values())
        return f"{extra} of your {len(have)} rows are not in the expected result."
    if ordered and have != want:
        first = next(i for i, (a, b) in enumerate(zip(have, want, strict=True)) if a != b)
        return (
            "Your rows are the expected ones but not in the expected order "
            f"(row {first + 1} is out of place)."
        )
    return ""


async def _reference(sandbox: Sandbox, schema: str, query: str) -> QueryResult:
    key = (schema, query, sandbox.max_rows)
    cached = _references.get(key)
    if cached is not None:
        _references.move_to_end(key)
        return cached
    try:
        result = await sandbox.run(schema, query)
    except QueryRefused as error:
        raise SandboxUnavailable("the practice's reference query does not run") from error
    if result.truncated:
        raise SandboxUnavailable("the practice's reference result is larger than the row limit")
    _references[key] = result
    while len(_references) > REFERENCE_CACHE_ENTRIES:
        _references.popitem(last=False)
    return result


async def sql_result(sandbox: Sandbox, practice: PracticeContent, answer: str) -> CheckResult:
    """Run the answer and the reference query in the practice's sandbox schema (made
    now if this is its first check since the content changed) and compare them."""
    assert practice.sample_data is not None
    schema = schema_for(practice.id, tables := sample_tables(practice))
    try:
        await sandbox.ensure(schema, tables)
    except Exception as error:  # a bad value for its column, a missing role: the practice's fault
        raise SandboxUnavailable(f"the practice's sample data cannot be made: {error}") from error
    expected = await _reference(sandbox, schema, practice.reference_solution)
    try:
        got = await sandbox.run(schema, answer)
    except QueryRefused as refused:
        return CheckResult(
            description=RESULT_CHECK, passed=False, message=f"Your query did not run: {refused}."
        )
    message = compare(
        expected, got, ordered=practice.sample_data.ordered, max_rows=sandbox.max_rows
    )
    return CheckResult(description=RESULT_CHECK, passed=not message, message=message or None)


def _message(results: Sequence[CheckResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return "All checks passed."
    return " ".join(r.message or f"Not yet: {r.description}." for r in failed)


async def check_practice(
    *, session: AsyncSession, sandbox: Sandbox, user: User, practice_id: str, answer: str
) -> CheckOutcome:
    """Check ``answer``, record the outcome, then: a failure is evidence against the
    practice's competencies (and a feedback ticket, by the one ticket rule), a pass is
    evidence for them and marks the practice done (its points)."""
    practice, course = await content.visible_practice(
        session=session, viewer=user, practice_id=practice_id
    )
    if any(c.kind not in PATTERN_KINDS for c in practice.checks) or (
        not practice.checks and practice.sample_data is None
    ):
        raise PracticeNotCheckable(f"{practice_id} has no automatic check", field="practice_id")
    target = await item_target(session, user_id=user.id, item_id=practice_id, item_type="practice")
    if target is None or target.enrollment_id is None:
        raise EnrollmentRequired(f"enroll in {practice.course_id} to have your answers checked")
    results = _pattern_results(practice, answer)
    if practice.sample_data is not None:
        results.append(await sql_result(sandbox, practice, answer))
    passed = all(r.passed for r in results)
    message = _message(results)
    run = await repository.add_check_run(
        session,
        user_id=user.id,
        course_id=course.course.id,
        practice_id=practice.id,
        version=practice.version,
        answer=answer,
        passed=passed,
        message=message,
    )
    await record_graded(
        session,
        [
            GradedWork(
                source="check",
                attempt_id=run,
                user_id=user.id,
                container_id=practice.id,
                container_version=practice.version,
                title=practice.title,
                course_id=course.course.id,
                items=(
                    GradedItem(
                        item_id=practice.id,
                        version=practice.version,
                        points=1.0 if passed else 0.0,
                        max_points=1.0,
                        competencies=tuple(practice.competencies),
                    ),
                ),
                detail="" if passed else message,
            )
        ],
    )
    progress = (
        await learning.complete_practice(session=session, user=user, practice_id=practice_id)
        if passed
        else None
    )
    return CheckOutcome(
        id=run,
        practice_id=practice.id,
        practice_version=practice.version,
        passed=passed,
        message=message,
        checks=results,
        progress=progress,
    )
