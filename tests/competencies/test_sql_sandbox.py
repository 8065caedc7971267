"""[6/8] Automatic checks of SQL practices in the PostgreSQL sandbox, and the pattern
checks of other practices, through ``POST /practices/{id}/checks``.

The learner's query runs as ``syllabus_sandbox`` on connections of its own, read-only,
with a timeout and a row limit, against the practice's sample data; its result is
compared with the reference query's. The hostile queries below each end as a failed
check or a problem+json, never a 500, and leave the service's tables, the sample data and
the service's pool as they were."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from syllabus.competencies.checks import compare
from syllabus.db.sandbox import READER_ROLE, QueryResult, Sandbox
from tests.competencies.helpers import FREE, load, mine, name_competencies
from tests.content.folder import write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

SQL = "practice:rest-basics-orders"
ANY_ORDER = "practice:rest-basics-statuses"
HTTP = "practice:rest-basics-task"
REFERENCE = (
    "SELECT status, count(*) AS orders, sum(amount_cents) AS cents FROM orders "
    "GROUP BY status ORDER BY status /* the-reference-query */"
)
RIGHT = (
    "select o.status, count(o.id) as orders, sum(o.amount_cents) as cents "
    "from orders o group by 1 order by 1;"
)
ORDERS: dict[str, Any] = {
    "name": "orders",
    "columns": {
        "id": "bigint",
        "status": "text",
        "amount_cents": "integer",
        "created_at": "timestamp with time zone",
    },
    "rows": [
        [1, "paid", 1000, "2024-01-31T23:30:00Z"],
        [2, "paid", 2500, "2024-02-01T10:00:00Z"],
        [3, "refunded", 700, "2024-02-02T10:00:00Z"],
        [4, "pending", 300, "2024-02-03T10:00:00Z"],
        [5, "paid", 1234, "2024-03-01T10:00:00Z"],
        [6, "cancelled", 50, "2024-03-02T10:00:00Z"],
        [7, "paid", 999, None],
        [8, "refunded", 1, "2024-03-03T10:00:00Z"],
    ],
}


def write_sql_practices(root: Path) -> None:
    """Two SQL practices in the free course (one ordered, one not), naming competencies."""
    practices = root / "courses" / "rest-basics" / "practices"
    write_json(
        practices / "orders.json",
        {
            "id": SQL,
            "title": "Orders by status",
            "language": "sql",
            "instructions": "Count the orders and sum their cents by status, ordered by status.",
            "reference_solution": REFERENCE,
            "sample_data": {"ordered": True, "tables": [ORDERS]},
            "competencies": ["rest.resources"],
        },
    )
    write_json(
        practices / "statuses.json",
        {
            "id": ANY_ORDER,
            "title": "Paid orders",
            "language": "sql",
            "reference_solution": "SELECT id FROM orders WHERE status = 'paid'",
            "sample_data": {"tables": [ORDERS]},
            "competencies": ["rest.resources"],
        },
    )
    task = practices / "task.json"
    practice = json.loads(task.read_text(encoding="utf-8"))
    practice["checks"] = [
        {"kind": "contains", "expected": "POST /books -> 201", "description": "Books are made"},
        {"kind": "regex", "expected": r"GET /books/\{[a-z_]+\}", "description": "One book"},
    ]
    practice["competencies"] = ["http.methods"]
    write_json(task, practice)
    course_path = root / "courses" / "rest-basics" / "course.json"
    course = json.loads(course_path.read_text(encoding="utf-8"))
    course["modules"][1]["items"] += [SQL, ANY_ORDER]
    write_json(course_path, course)


@pytest.fixture
async def sql_loaded(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> Path:
    name_competencies(folder)
    write_sql_practices(folder)
    await load(folder, mongo, catalog_sessions)
    return folder


@pytest.fixture
async def student(client: httpx.AsyncClient, sql_loaded: Path) -> Account:
    account = await sign_up(client)
    await enroll(client, account, FREE)
    return account


@pytest.fixture
async def quick(app: FastAPI) -> AsyncIterator[Sandbox]:
    """The app's sandbox with a short timeout, so the slow hostile queries stay quick."""
    sandbox: Sandbox = app.state.sql_sandbox
    before = sandbox.timeout_ms
    sandbox.timeout_ms = 300
    yield sandbox
    sandbox.timeout_ms = before


async def check(
    client: httpx.AsyncClient, account: Account, answer: str, practice: str = SQL
) -> httpx.Response:
    return await client.post(
        f"/api/v1/practices/{practice}/checks", json={"answer": answer}, headers=account.headers
    )


async def outcome(
    client: httpx.AsyncClient, account: Account, answer: str, practice: str = SQL
) -> dict[str, Any]:
    response = await check(client, account, answer, practice)
    assert response.status_code == 200, response.text
    assert "the-reference-query" not in response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_right_query_passes_and_marks_the_practice_done(
    client: httpx.AsyncClient, student: Account
) -> None:
    body = await outcome(client, student, RIGHT)
    assert body["passed"] is True, body
    assert body["message"] == "All checks passed."
    assert body["checks"] == [
        {
            "description": "The query's result matches the expected result",
            "passed": True,
            "message": None,
        }
    ]
    assert body["progress"]["practice_id"] == SQL
    assert body["progress"]["status"] == "completed"
    assert await mine(client, student, "feedback-tickets") == []
    competencies = await mine(client, student, "competencies")
    assert [(c["code"], c["mastery"]) for c in competencies] == [("rest.resources", 1.0)]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("SELECT status, count(*) AS orders FROM orders GROUP BY 1 ORDER BY 1", "3: status"),
        (
            "SELECT status, count(*) AS n, sum(amount_cents) AS cents FROM orders "
            "GROUP BY 1 ORDER BY 1",
            "named status, n, cents",
        ),
        (
            "SELECT status, count(*) AS orders, sum(amount_cents) AS cents FROM orders "
            "WHERE status <> 'pending' GROUP BY 1 ORDER BY 1",
            "returned 3 rows; the expected result has 4",
        ),
        (
            "SELECT status, count(*) AS orders, sum(amount_cents) + 1 AS cents FROM orders "
            "GROUP BY 1 ORDER BY 1",
            "4 of your 4 rows are not in the expected result",
        ),
        (
            "SELECT status, count(*) AS orders, sum(amount_cents) AS cents FROM orders "
            "GROUP BY 1 ORDER BY 1 DESC",
            "not in the expected order (row 1",
        ),
        ("SELECT status FROM orderz", 'relation "orderz" does not exist'),
    ],
)
async def test_a_wrong_query_fails_saying_what_differs_and_opens_a_ticket(
    client: httpx.AsyncClient, student: Account, answer: str, said: str
) -> None:
    body = await outcome(client, student, answer)
    assert body["passed"] is False
    assert said in body["message"], body["message"]
    assert body["progress"] is None
    tickets = await mine(client, student, "feedback-tickets")
    assert len(tickets) == 1
    ticket = tickets[0]
    assert (ticket["source"], ticket["container_id"], ticket["priority"]) == ("check", SQL, 1)
    assert ticket["competency"]["code"] == "rest.resources"
    assert said in ticket["description"]
    assert ticket["item"] == {"id": SQL, "version": 1, "points": 0.0, "max_points": 1.0}
    assert "the-reference-query" not in json.dumps(tickets)
    # A retry that fails again refreshes the one ticket; passes close it once mastery
    # recovers past 0.75 (0 → 0 → 0.65 → 0.8775, the decaying average).
    await outcome(client, student, answer)
    assert len(await mine(client, student, "feedback-tickets")) == 1
    assert (await outcome(client, student, RIGHT))["passed"] is True
    (still,) = await mine(client, student, "feedback-tickets")
    assert still["status"] == "to_do"
    assert (await outcome(client, student, RIGHT))["passed"] is True
    (closed,) = await mine(client, student, "feedback-tickets")
    assert closed["status"] == "done"


async def test_a_practice_without_order_compares_rows_as_a_multiset(
    client: httpx.AsyncClient, student: Account
) -> None:
    reversed_ids = "SELECT id FROM orders WHERE status = 'paid' ORDER BY id DESC"
    assert (await outcome(client, student, reversed_ids, ANY_ORDER))["passed"] is True
    duplicated = "SELECT id FROM orders WHERE status = 'paid' OR id = 1"
    body = await outcome(client, student, duplicated + " UNION ALL SELECT 1", ANY_ORDER)
    assert body["passed"] is False
    assert "returned 5 rows" in body["message"]


def test_numbers_compare_by_value_and_types_still_count() -> None:
    from datetime import date, datetime
    from decimal import Decimal

    expected = QueryResult(("m", "v"), ((date(2024, 1, 1), Decimal("12.30")),), False)
    same = QueryResult(("m", "v"), ((date(2024, 1, 1), 12.3),), False)
    assert compare(expected, same, ordered=True, max_rows=10) == ""
    a_timestamp = QueryResult(("m", "v"), ((datetime(2024, 1, 1), Decimal("12.3")),), False)
    assert "not in the expected result" in compare(expected, a_timestamp, ordered=True, max_rows=10)


async def test_pattern_checks_of_an_http_practice_keep_working(
    client: httpx.AsyncClient, student: Account
) -> None:
    half = await outcome(client, student, "POST /books -> 201\n", HTTP)
    assert half["passed"] is False
    assert half["checks"] == [
        {"description": "Books are made", "passed": True, "message": None},
        {"description": "One book", "passed": False, "message": None},
    ]
    assert half["message"] == "Not yet: One book."
    tickets = await mine(client, student, "feedback-tickets")
    assert [t["competency"]["code"] for t in tickets] == ["http.methods"]
    done = await outcome(client, student, "POST /books -> 201\nGET /books/{book_id} -> 200", HTTP)
    assert done["passed"] is True
    assert done["progress"]["practice_id"] == HTTP


async def test_refusals_are_problems(
    client: httpx.AsyncClient, student: Account, sql_loaded: Path
) -> None:
    stranger = await sign_up(client)  # not enrolled
    refused = await check(client, stranger, RIGHT)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "enrollment-required"
    missing = await check(client, student, RIGHT, "practice:rest-basics-nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")
    empty = await check(client, student, "")
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "answer")
    huge = await check(client, student, "SELECT 1 " + "-" * 20_000)
    assert (huge.status_code, huge.json()["errors"][0]["field"]) == (422, "answer")
    for bad in ('"SELECT 1 \\ud800"', '"SELECT 1 \\u0000"'):  # a lone surrogate, a NUL
        refused = await client.post(
            f"/api/v1/practices/{SQL}/checks",
            content=f'{{"answer": {bad}}}',
            headers={**student.headers, "Content-Type": "application/json"},
        )
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "answer")
    anonymous = await client.post(f"/api/v1/practices/{SQL}/checks", json={"answer": RIGHT})
    assert anonymous.status_code == 401


HOSTILE: list[tuple[str, str]] = [
    ("SELECT pg_sleep(10)", "ran longer than 300 ms"),
    (
        "SELECT set_config('statement_timeout', '0', false), pg_sleep(10)",
        "ran longer than 300 ms",
    ),
    ("INSERT INTO orders (id, status, amount_cents) VALUES (99, 'paid', 1)", "only a query"),
    ("UPDATE orders SET amount_cents = 0", "only a query"),
    ("DELETE FROM orders", "only a query"),
    ("DROP TABLE orders", "only a query"),
    ("TRUNCATE orders", "only a query"),
    ("CREATE TABLE loot (a int)", "only a query"),
    ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "data-modifying"),
    ("SELECT * FROM orders FOR UPDATE", "read-only transaction"),
    ("SELECT pg_read_file('/etc/passwd')", "permission denied"),
    ("SELECT lo_import('/etc/passwd')", "permission denied"),
    ("SELECT * FROM public.users", "permission denied for table users"),
    ('SELECT email FROM "public"."users"', "permission denied for table users"),
    ("SELECT * FROM users", 'relation "users" does not exist'),
    ("SELECT count(*) FROM public.alembic_version", "permission denied"),
    ("COPY (SELECT 1) TO PROGRAM 'id'", "only a query"),
    ("COPY orders TO '/tmp/orders.csv'", "only a query"),
    ("SET ROLE syllabus_app", "only a query"),
    ("RESET ROLE", "only a query"),
    ("SET SESSION AUTHORIZATION DEFAULT", "only a query"),
    ("SELECT set_config('role', 'syllabus_app', false)", "permission denied to set role"),
    (
        "SELECT set_config('role', 'syllabus_app', true), "
        "query_to_xml('SELECT * FROM public.users', true, false, '')",
        "permission denied to set role",
    ),
    ("SELECT query_to_xml('SELECT * FROM public.users', true, false, '')", "permission denied"),
    ("SELECT 1 AS a; DROP TABLE orders", "one query, not several"),
    ("SELECT 1; SELECT 2", "one query, not several"),
    ("PREPARE TRANSACTION 'loot'", "only a query"),
    ("COMMIT PREPARED 'loot'", "only a query"),
    ("SELECT dblink_connect('host=127.0.0.1 dbname=postgres')", "does not exist"),
    ("SELECT * FROM orders a, orders b, orders c, orders d", "more than 1000 rows"),
    (
        "SELECT count(*) FROM generate_series(1, 100000000) a, generate_series(1, 1000) b",
        "ran longer than 300 ms",
    ),
    ("SELECT pg_advisory_lock(42)", "columns"),  # runs; the lock goes with the connection
    ("SELECT pg_terminate_backend(pg_backend_pid())", "ended its own connection"),
    ("SELECT nextval('users_id_seq')", "does not exist"),
    ("LISTEN anything", "only a query"),
    ("DO $$ BEGIN PERFORM 1; END $$", "only a query"),
    ("CALL anything()", "only a query"),
]


@pytest.mark.parametrize(("query", "said"), HOSTILE, ids=[q for q, _ in HOSTILE])
async def test_a_hostile_query_fails_the_check_and_touches_nothing(
    client: httpx.AsyncClient,
    student: Account,
    quick: Sandbox,
    app: FastAPI,
    connection: AsyncConnection,
    query: str,
    said: str,
) -> None:
    body = await outcome(client, student, query)
    assert body["passed"] is False
    assert said in body["message"], body["message"]
    # The sample data is as it was: the right query still passes, on the same pool.
    assert (await outcome(client, student, RIGHT))["passed"] is True
    # The service's tables: the learner's account is there, nothing was dropped.
    users = await connection.execute(text("SELECT count(*) FROM users"))
    assert users.scalar_one() >= 1
    # The service's pool: its connections are the app role's, writable, no timeout.
    async with app.state.engine.connect() as pooled:
        state = await pooled.execute(
            text(
                "SELECT current_user, session_user, current_setting('transaction_read_only'), "
                "current_setting('statement_timeout'), current_setting('search_path')"
            )
        )
        assert tuple(state.one()) == (
            "syllabus_app",
            "syllabus_app",
            "off",
            "0",
            '"$user", public',
        )


async def test_the_reader_role_can_read_only_the_sandbox(connection: AsyncConnection) -> None:
    """Checked in the catalogs, for every table of the service (not only ``users``)."""
    rows = await connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'sandbox\\_%' AND n.nspname NOT LIKE 'pg\\_toast%' "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND (has_table_privilege(:r, c.oid, 'SELECT') "
            "  OR has_table_privilege(:r, c.oid, 'INSERT') "
            "  OR has_table_privilege(:r, c.oid, 'UPDATE') "
            "  OR has_table_privilege(:r, c.oid, 'DELETE'))"
        ),
        {"r": READER_ROLE},
    )
    assert rows.scalars().all() == []
    role = await connection.execute(
        text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, "
            "(SELECT count(*) FROM pg_auth_members WHERE member = r.oid) "
            "FROM pg_roles r WHERE rolname = :r"
        ),
        {"r": READER_ROLE},
    )
    assert tuple(role.one()) == (False, False, False, False, False, 0)


def _broken(root: Path, change: dict[str, Any]) -> None:
    path = root / "courses" / "rest-basics" / "practices" / "orders.json"
    practice = json.loads(path.read_text(encoding="utf-8"))
    practice.update(change)
    write_json(path, practice)


def _with_table(**table: Any) -> dict[str, Any]:
    return {"sample_data": {"tables": [{**ORDERS, **table}]}}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_with_table(columns={"id": "bigintt"}, rows=[[1]]), "PostgreSQL has no type bigintt"),
        (
            _with_table(columns={"id": "bigint"}, rows=[["one"]]),
            'the sample data does not load: invalid input syntax for type bigint: "one"',
        ),
        (
            {"reference_solution": "SELECT nothing FROM orders"},
            "reference_solution does not run on the sample data: column",
        ),
        ({"reference_solution": "SELECT pg_sleep(5)"}, "ran longer than"),
        (
            {"reference_solution": "SELECT * FROM orders a, orders b, orders c, orders d"},
            "returns more than 1000 rows",
        ),
        (_with_table(rows=[[1, "paid"]]), "rows[0] has 2 values for 4 columns"),
        (_with_table(columns={"id": "integer references users"}, rows=[]), "sample_data.tables"),
        (_with_table(columns={"ID": "bigint"}, rows=[]), "sample_data.tables"),
        ({"language": "python"}, "sample_data needs language 'sql'"),
        ({"reference_solution": ""}, "sample_data needs language 'sql'"),
    ],
)
async def test_the_loader_refuses_sample_data_that_does_not_run(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    quick: Sandbox,
    change: dict[str, Any],
    said: str,
) -> None:
    from syllabus.content.loader.run import load_folder

    name_competencies(folder)
    write_sql_practices(folder)
    _broken(folder, change)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions, sandbox=quick)
    assert not result.ok
    problems = [str(p) for p in result.problems]
    assert any(
        p.startswith("courses/rest-basics/practices/orders.json:") and said in p for p in problems
    ), problems
    assert await mongo["practice_content"].count_documents({}) == 0  # nothing written


async def test_the_loader_makes_the_sample_data_and_a_reload_reuses_it(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    quick: Sandbox,
    connection: AsyncConnection,
) -> None:
    from syllabus.content.loader.run import load_folder
    from syllabus.db.sandbox import schema_for

    name_competencies(folder)
    write_sql_practices(folder)
    _broken(folder, {"sample_data": {"tables": [{**ORDERS, "rows": ORDERS["rows"][:3]}]}})
    loaded = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions, sandbox=quick)
    assert loaded.ok, loaded.problems
    again = await load_folder(
        folder, database=mongo, sessionmaker=catalog_sessions, sandbox=quick, force=True
    )
    assert again.ok, again.problems
    schemas = await connection.execute(
        text("SELECT nspname, nspowner::regrole::text FROM pg_namespace WHERE nspname LIKE :s"),
        {"s": "sandbox\\_rest\\_basics\\_orders\\_%"},
    )
    found: dict[str, str] = {row[0]: row[1] for row in schemas.all()}
    tables = sample_tables_of(ORDERS["rows"][:3])
    assert found[schema_for(SQL, tables)] == "syllabus_sandbox_owner"
    result = await quick.run(schema_for(SQL, tables), "SELECT count(*) AS n FROM orders")
    assert result.rows == ((3,),)


def sample_tables_of(rows: list[list[Any]]) -> list[Any]:
    from syllabus.db.sandbox import SampleTable

    return [
        SampleTable(
            name="orders",
            columns=tuple(ORDERS["columns"].items()),
            rows=tuple(tuple(row) for row in rows),
        )
    ]


SEED_PRACTICE = (
    Path(__file__).resolve().parents[2]
    / "content_seed"
    / "courses"
    / "sql-for-analysts"
    / "practices"
    / "sql-monthly-revenue.json"
)


@pytest.mark.parametrize(
    ("answer", "passes"),
    [
        (  # the reference's idea, written differently: passes
            "SELECT (date_trunc('month', created_at AT TIME ZONE 'Europe/Berlin'))::date AS month,"
            " count(*) AS paid_orders, round(sum(amount_cents)::numeric / 100, 2) AS revenue_eur"
            " FROM orders WHERE status IN ('paid')"
            " AND created_at >= '2023-12-31 23:00:00+00' AND created_at < '2024-12-31 23:00:00+00'"
            " GROUP BY 1 ORDER BY month",
            True,
        ),
        (  # months of UTC, not Berlin: the orders around midnight land in the wrong month
            "SELECT date_trunc('month', created_at)::date AS month, count(*) AS paid_orders,"
            " round(sum(amount_cents) / 100.0, 2) AS revenue_eur FROM orders"
            " WHERE status = 'paid' AND created_at >= '2024-01-01' AND created_at < '2025-01-01'"
            " GROUP BY 1 ORDER BY 1",
            False,
        ),
        (  # integer division
            "SELECT date_trunc('month', created_at AT TIME ZONE 'Europe/Berlin')::date AS month,"
            " count(*) AS paid_orders, round(sum(amount_cents) / 100, 2) AS revenue_eur"
            " FROM orders WHERE status = 'paid'"
            " AND created_at >= timestamp '2024-01-01' AT TIME ZONE 'Europe/Berlin'"
            " AND created_at < timestamp '2025-01-01' AT TIME ZONE 'Europe/Berlin'"
            " GROUP BY 1 ORDER BY 1",
            False,
        ),
    ],
)
async def test_the_seed_sql_practice_tells_right_from_the_usual_mistakes(
    quick: Sandbox, answer: str, passes: bool
) -> None:
    """The seed's sample data has orders around midnight at month ends, across the DST
    changes and at the year's ends, so the time-zone and integer-division mistakes show."""
    from syllabus.content.loader.formats import PracticeIn
    from syllabus.db.sandbox import SampleTable, schema_for

    practice = PracticeIn.model_validate_json(SEED_PRACTICE.read_text(encoding="utf-8"))
    assert practice.sample_data is not None
    tables = [
        SampleTable(t.name, tuple(t.columns.items()), tuple(tuple(r) for r in t.rows))
        for t in practice.sample_data.tables
    ]
    schema = schema_for(practice.id, tables)
    await quick.ensure(schema, tables)
    expected = await quick.run(schema, practice.reference_solution)
    assert len(expected.rows) == 9  # months with paid orders in Berlin's 2024
    got = await quick.run(schema, answer)
    assert (compare(expected, got, ordered=True, max_rows=1000) == "") is passes


async def test_a_practice_loaded_broken_without_the_sandbox_is_a_409_at_its_check(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A load run from code without the sandbox cannot see a type PostgreSQL lacks; the
    first check then refuses as problem+json, and records nothing."""
    name_competencies(folder)
    write_sql_practices(folder)
    _broken(folder, _with_table(columns={"id": "bigintt"}, rows=[[1]]))
    await load(folder, mongo, catalog_sessions)
    account = await sign_up(client)
    await enroll(client, account, FREE)
    refused = await check(client, account, RIGHT)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "sql-sandbox-unavailable"
    assert await mine(client, account, "feedback-tickets") == []
    _broken(  # the data right again, the reference query broken
        folder,
        {
            "sample_data": {"ordered": True, "tables": [ORDERS]},
            "reference_solution": "SELECT nothing FROM orders",
        },
    )
    await load(folder, mongo, catalog_sessions)
    refused = await check(client, account, RIGHT)
    assert (refused.status_code, refused.json()["code"]) == (409, "sql-sandbox-unavailable")
    assert "nothing" not in refused.text  # the reference query is never quoted
