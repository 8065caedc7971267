"""Exports: CSV quoting (commas, quotes, Cyrillic), JSON Lines, and xAPI statements whose
structure is checked one by one; plus the CLI on a real database."""

import asyncio
import csv
import io
import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from syllabus.analytics import export
from syllabus.db import migrate
from tests.analytics.conftest import command, environment, syllabus
from tests.identity.helpers import Account

BASE = "https://learn.example.org"


async def raw(connection: AsyncConnection) -> asyncpg.Connection:
    """The test's own driver connection: it sees the test's uncommitted data."""
    dbapi = await connection.get_raw_connection()
    driver: asyncpg.Connection = dbapi.driver_connection
    return driver


async def run(connection: AsyncConnection, view: str, fmt: export.Format, **options: Any) -> str:
    driver = await raw(connection)
    query, args = await export.plan(driver, view, fmt=fmt, since=options.get("since"))
    out = io.StringIO()
    await export.write(export.stream(driver, query, args), out, fmt=fmt, base=BASE)
    return out.getvalue()


async def test_csv_quotes_commas_quotes_and_cyrillic(
    connection: AsyncConnection, session: AsyncSession, dataset: list[Account]
) -> None:
    title = 'Курс "Алгебра", часть 1'
    await session.execute(
        text("UPDATE courses SET title = :t WHERE content_id = 'course:rest-basics'"), {"t": title}
    )
    await session.flush()
    exported = await run(connection, "course_funnel", "csv")
    assert '"Курс ""Алгебра"", часть 1"' in exported
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0] == [
        "course_id",
        "title",
        "status",
        "enrolled",
        "started",
        "completed",
        "start_rate",
        "completion_rate",
    ]
    row = next(r for r in table[1:] if r[0] == "course:rest-basics")
    assert row[1] == title
    assert row[3:6] == ["3", "2", "1"]


async def test_jsonl_has_one_object_per_row(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    lines = (await run(connection, "learner_course", "jsonl")).splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    assert set(rows[0]) == {
        "user_id",
        "course_id",
        "enrollment_status",
        "enrolled_at",
        "completed_at",
        "lessons_completed",
        "required_items",
        "quiz_attempts",
        "last_activity_at",
        "required_completed",
        "percent_complete",
        "is_staff",
        "is_erased",
    }
    assert {row["user_id"] for row in rows} == {account.id for account in dataset}


def absolute_iri(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def check_statement(statement: dict[str, Any]) -> None:
    assert set(statement) <= {"id", "actor", "verb", "object", "result", "context", "timestamp"}
    assert uuid.UUID(statement["id"]).version == 5  # LRSs refuse versions other than 1-5
    account = statement["actor"]["account"]
    assert statement["actor"]["objectType"] == "Agent"
    assert account["homePage"] == BASE
    uuid.UUID(account["name"])  # the learner's id, never an email
    assert absolute_iri(statement["verb"]["id"])
    assert statement["verb"]["display"]["en-US"]
    assert statement["object"]["objectType"] == "Activity"
    assert absolute_iri(statement["object"]["id"])
    assert absolute_iri(statement["object"]["definition"]["type"])
    assert datetime.fromisoformat(statement["timestamp"]).tzinfo is not None
    if "result" in statement:
        assert isinstance(statement["result"]["success"], bool)
        score = statement["result"].get("score")
        if score:
            assert 0 <= score["scaled"] <= 1
            assert score["min"] <= score["raw"] <= score["max"]
    if "context" in statement:
        for parent in statement["context"]["contextActivities"]["parent"]:
            assert absolute_iri(parent["id"])


async def test_xapi_statements_are_well_formed(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    statements = [
        json.loads(line) for line in (await run(connection, "activity", "xapi")).splitlines()
    ]
    verbs = {s["verb"]["display"]["en-US"]: s["verb"]["id"] for s in statements}
    adl = "http://adlnet.gov/expapi/verbs/"
    assert verbs == {
        "signed-up": f"{BASE}/xapi/verbs/signed-up",  # not ADL's registered: that is enrolling
        "registered": f"{adl}registered",
        "initialized": f"{adl}initialized",
        "completed": f"{adl}completed",
        "attempted": f"{adl}attempted",
        "passed": f"{adl}passed",
        "failed": f"{adl}failed",
        "earned": f"{BASE}/xapi/verbs/earned",
    }
    for statement in statements:
        check_statement(statement)
    by_verb = {s["verb"]["display"]["en-US"]: s for s in statements}
    assert by_verb["registered"]["object"]["id"] == f"{BASE}/content/course/rest-basics"
    assert by_verb["signed-up"]["object"]["id"].startswith(f"{BASE}/users/")
    passed = next(s for s in statements if s["verb"]["display"]["en-US"] == "passed")
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["object"]["id"] == f"{BASE}/content/quiz/rest-basics-check"
    assert passed["result"]["score"] == {"raw": 3.0, "max": 3.0, "min": 0, "scaled": 1.0}
    assert passed["context"]["contextActivities"]["parent"] == [
        {"id": f"{BASE}/content/course/rest-basics"}
    ]
    assert "@" not in json.dumps(statements)  # no email anywhere


async def test_xapi_ids_are_derived_from_the_row_so_a_re_export_is_identical(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    first = await run(connection, "activity", "xapi")
    assert await run(connection, "activity", "xapi") == first
    rows = (await raw(connection)).fetch("SELECT activity_id FROM analytics.activity")
    expected = {
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}/xapi/statements/{row['activity_id']}"))
        for row in await rows
    }
    assert {json.loads(line)["id"] for line in first.splitlines()} == expected


async def test_since_filters_and_bad_requests_are_refused(
    connection: AsyncConnection, dataset: list[Account]
) -> None:
    # A year on, as a UTC day (the export's --since is one); not ``.replace(year=+1)``,
    # which raises on 29 February.
    tomorrow = datetime.now(UTC).date() + timedelta(days=366)
    assert await run(connection, "activity", "jsonl", since=tomorrow) == ""
    driver = await raw(connection)
    cases: list[tuple[str, export.Format, Any, str]] = [
        ("course_funnel", "xapi", None, "xapi exports the activity log"),
        ("users", "csv", None, "no view analytics.users"),
        ("course_funnel", "csv", tomorrow, "--since is not supported"),
    ]
    for view, fmt, since, message in cases:
        with pytest.raises(export.ExportError, match=message):
            await export.plan(driver, view, fmt=fmt, since=since)


def cli(*arguments: str, database: str) -> subprocess.CompletedProcess[str]:
    return syllabus("analytics", "export", *arguments, database=database)


async def test_the_cli_exports_to_a_file(scratch_database: str, tmp_path: Path) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    target = tmp_path / "funnel.csv"
    done = await asyncio.to_thread(
        cli, "course_funnel", "--output", str(target), database=scratch_database
    )
    assert done.returncode == 0, done.stderr
    assert "0 row(s) exported" in done.stderr
    bad = await asyncio.to_thread(cli, "users", database=scratch_database)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: no view analytics.users")
    for base in ("learn.example.org", "ftp://learn.example.org", "https://x.org/?q=1"):
        refused = await asyncio.to_thread(
            cli, "activity", "--format", "xapi", "--iri-base", base, database=scratch_database
        )
        assert refused.returncode == 2, base
        assert refused.stderr.startswith("error: --iri-base: must be http(s)://host"), base
        assert refused.stdout == ""


def head_one(*arguments: str, database: str) -> tuple[bytes, int, str]:
    """``syllabus … | head -1``: read one line, close the pipe, then wait."""
    with subprocess.Popen(
        command(*arguments),
        env=environment(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()
        child.stdout.close()
        stderr = child.stderr.read().decode()
        return first, child.wait(timeout=120), stderr


async def test_a_reader_that_stops_early_ends_the_export_quietly(scratch_database: str) -> None:
    """``syllabus analytics export … | head``: the closed pipe ends the command with
    exit 0 and nothing on stderr about databases or tracebacks ([1/8] item 24)."""
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    database = await asyncpg.connect(scratch_database)
    try:
        user = await database.fetchval(
            "INSERT INTO users (email, name) VALUES ('a@example.org', 'A') RETURNING id"
        )
        await database.execute(
            "INSERT INTO activity_log (actor_id, verb, object_type, object_id) "
            "SELECT $1, 'started', 'lesson', 'lesson:l' || g FROM generate_series(1, 5000) g",
            user,
        )  # about 1.5 MB of JSON Lines: far more than a pipe holds
    finally:
        await database.close()
    for fmt in ("jsonl", "csv"):
        first, status, stderr = await asyncio.to_thread(
            head_one, "analytics", "export", "activity", "--format", fmt, database=scratch_database
        )
        assert status == 0, stderr
        assert b"verb" in first
        for noise in ("Traceback", "did not answer", "Broken pipe", "Exception ignored"):
            assert noise not in stderr
