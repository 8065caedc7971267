"""[1/8] item 23: ``GET /users/me/export`` is complete and speaks the API's ids. Reported:
it left out the user's activity-log rows and showed internal course UUIDs instead of
``course:…`` ids.

Complete is checked against the schema, not a list: every table that can hold a user's
data (a foreign key to ``users``, a ``user_id``/``actor_id``/``email`` column, or a
foreign key to such a table: an exam attempt's answer log) must be exported by a registered section or declared not exported with a reason
(``identity/export.py``), so a future table fails here until it does one or the other;
then, after a full learner + admin journey, every section holds exactly the learner's
rows of its tables."""

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

import syllabus.main  # noqa: F401 - the domains register their sections on import
from syllabus.identity.export import declared_not_exported, exported_tables
from syllabus.tables import metadata
from tests.ai.fixtures import Configure
from tests.identity.helpers import sign_up
from tests.journey import learner_and_admin

OWNER_COLUMNS = ("user_id", "actor_id", "email")


def owned_tables() -> set[str]:
    """Tables whose rows say whose they are (a user column), read from the metadata."""
    return {
        name
        for name, table in metadata.tables.items()
        if name == "users"
        or any(key.column.table.name == "users" for key in table.foreign_keys)
        or set(OWNER_COLUMNS) & set(table.c.keys())
    }


def parent_of(table: str) -> tuple[str, str] | None:
    """(column, owned table) for a table without a user column of its own whose rows
    belong to an owned table's row (an answer event to its attempt)."""
    owned = owned_tables()
    return next(
        (
            (key.parent.name, key.column.table.name)
            for key in metadata.tables[table].foreign_keys
            if key.column.table.name in owned
        ),
        None,
    )


def personal_tables() -> set[str]:
    """Tables that can hold a user's data: owned ones and those hanging off them."""
    return owned_tables() | {name for name in metadata.tables if parent_of(name) is not None}


def owner_of(table: str) -> str:
    """The column that says whose row it is."""
    if table == "users":
        return "id"
    return next(name for name in OWNER_COLUMNS if name in metadata.tables[table].c)


def mine_sql(table: str) -> tuple[str, str]:
    """``SELECT count(*)`` of the user's rows of ``table`` (bound ``:v``), and the owner
    column ``:v`` is compared with."""
    if table in owned_tables():
        owner = owner_of(table)
        return f"SELECT count(*) FROM {table} WHERE {owner}::text = :v", owner
    parent = parent_of(table)
    assert parent is not None
    column, owned = parent
    owner = owner_of(owned)
    return (
        f"SELECT count(*) FROM {table} t JOIN {owned} p ON p.id = t.{column}"
        f" WHERE p.{owner}::text = :v"
    ), owner


def test_every_table_with_user_data_is_exported_or_declared() -> None:
    exported, declared = exported_tables(), declared_not_exported()
    assert not set(exported) & set(declared), "a table is both exported and declared"
    assert set(exported) | set(declared) <= set(metadata.tables), "a registered table is gone"
    missing = personal_tables() - set(exported) - set(declared)
    assert missing == set(), (
        "register an export section for these tables, or declare them not exported "
        "(identity/export.py: export_table / export_section / not_exported)"
    )
    assert all(reason.strip() for reason in declared.values())


def rows_in(section: Any) -> int:
    return len(section) if isinstance(section, list) else int(section is not None)


async def test_the_export_holds_every_row_of_mine_in_the_apis_ids(
    live_client: httpx.AsyncClient, journey_loaded: Path, app: FastAPI, tutor: Configure
) -> None:
    admin = await sign_up(live_client)
    async with app.state.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": admin.id}
        )
    journey = await learner_and_admin(live_client, admin)
    learner = journey.learner
    response = await live_client.get("/api/v1/users/me/export", headers=learner.headers)
    assert response.status_code == 200, response.text
    export: dict[str, Any] = response.json()

    async with app.state.engine.connect() as connection:
        expected: dict[str, int] = {}
        for table, section in exported_tables().items():
            query, owner = mine_sql(table)
            value = learner.email if owner == "email" else learner.id
            count = (await connection.execute(text(query), {"v": value})).scalar_one()
            expected[section] = expected.get(section, 0) + count
        course_keys = {
            str(key) for key in (await connection.execute(text("SELECT id FROM courses"))).scalars()
        }
    assert {name: rows_in(rows) for name, rows in export.items()} == expected
    for section in (
        "enrollments",
        "lesson_progress",
        "quiz_attempts",
        "quiz_results",
        "activity",
        "exam_attempts",
        "exam_answer_events",
        "exam_results",
    ):
        assert export[section], f"the journey leaves rows in {section}"
    # The answer log is the learner's own answers and its hash chain, never a key.
    event = export["exam_answer_events"][0]
    assert {"attempt_id", "seq", "task", "answer", "at", "prev_hash", "hash"} <= set(event)
    assert all("task_points" not in row for row in export["exam_results"])
    # Sign-up to the last write: the learner's own activity, in order.
    verbs = [row["verb"] for row in export["activity"]]
    assert verbs[0] == "registered"
    assert {
        "enrolled",
        "started",
        "completed",
        "attempted",
        "passed",
        "earned",
        "cancelled",
    } <= set(verbs)

    # The API's ids: courses by content id, never the catalog's key, anywhere.
    dump = json.dumps(export)
    assert not {key for key in course_keys if key in dump}, "an internal course key leaked"
    course_ids = {
        row["course_id"]
        for section in ("enrollments", "lesson_progress", "quiz_attempts", "activity")
        for row in export[section]
        if row["course_id"] is not None
    }
    assert course_ids == {"course:rest-basics", "course:paid-course"}
    assert journey.admin.email not in dump
