"""Exports of the analytics surface: any ``analytics`` view, or the activity log, as CSV
or JSON Lines, and the activity log as xAPI statements. Rows stream from a server-side
cursor and are written as they arrive, so memory stays flat whatever the size."""

import csv
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, Literal, TextIO

import asyncpg

Format = Literal["csv", "jsonl", "xapi"]
ACTIVITY = "activity"
BATCH = 1000

ACTIVITY_QUERY = (
    "SELECT * FROM analytics.activity WHERE ($1::timestamptz IS NULL OR occurred_at >= $1) "
    "ORDER BY occurred_at, activity_id"
)
SINCE_COLUMNS = {
    "daily_active_learners": "day",
    "weekly_active_learners": "week",
    "learner_course": "enrolled_at",
}

ADL = "http://adlnet.gov/expapi/verbs/"
# Our verbs as xAPI verbs: ADL's where one fits, in its conventional meaning (an LRS reads
# ADL ``registered`` as enrolling in a course, so an enrollment is sent as that); the
# others are Syllabus's own, under the IRI base: an account sign-up is ``signed-up``.
XAPI_VERBS: dict[str, tuple[str | None, str]] = {
    "enrolled": (f"{ADL}registered", "registered"),
    "started": (f"{ADL}initialized", "initialized"),
    "completed": (f"{ADL}completed", "completed"),
    "attempted": (f"{ADL}attempted", "attempted"),
    "passed": (f"{ADL}passed", "passed"),
    "failed": (f"{ADL}failed", "failed"),
    "registered": (None, "signed-up"),
}


class ExportError(ValueError):
    """The view or the options cannot be exported as asked."""


async def views(connection: asyncpg.Connection) -> list[str]:
    """The schema's views, materialized twins included (information_schema lists no
    materialized view, hence pg_class)."""
    rows = await connection.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm') ORDER BY c.relname"
    )
    return [row["relname"] for row in rows]


async def plan(
    connection: asyncpg.Connection, name: str, *, fmt: Format, since: dt.date | None
) -> tuple[str, list[Any]]:
    """The query to stream (identifiers checked against the catalog, values bound)."""
    if name == ACTIVITY:
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since else None
        return ACTIVITY_QUERY, [start]
    if fmt == "xapi":
        raise ExportError(f"xapi exports the activity log: use '{ACTIVITY}', not {name!r}")
    if name not in await views(connection):
        raise ExportError(
            f"no view analytics.{name}; try one of: {', '.join(await views(connection))}"
        )
    if since is None:
        return f'SELECT * FROM analytics."{name}"', []  # noqa: S608 - name checked above
    column = SINCE_COLUMNS.get(name)
    if column is None:
        raise ExportError(f"--since is not supported for {name} (it has no date column)")
    return f'SELECT * FROM analytics."{name}" WHERE "{column}" >= $1', [since]  # noqa: S608


async def stream(
    connection: asyncpg.Connection, query: str, args: list[Any]
) -> AsyncIterator[asyncpg.Record]:
    """Rows from a server-side cursor (cursors need a transaction: a read-only one of
    our own, unless the caller is already in one)."""
    if connection.is_in_transaction():
        async for record in connection.cursor(query, *args, prefetch=BATCH):
            yield record
        return
    async with connection.transaction(readonly=True):
        async for record in connection.cursor(query, *args, prefetch=BATCH):
            yield record


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _content_iri(base: str, content_id: str) -> str:
    kind, _, slug = content_id.partition(":")
    return f"{base}/content/{kind}/{slug}" if slug else f"{base}/content/{kind}"


def statement(record: asyncpg.Record, *, base: str) -> dict[str, Any]:
    """One activity-log row as an xAPI 1.0.3 statement (the learner as an account)."""
    row_id = record["activity_id"]
    verb_iri, name = XAPI_VERBS.get(record["verb"], (None, record["verb"]))
    object_type = record["object_type"]
    object_id = record["object_id"]
    object_iri = (
        f"{base}/users/{object_id}"
        if object_type == "user"
        else f"{base}/achievements/{object_id}"
        if object_type == "achievement"
        else _content_iri(base, object_id)
    )
    result: dict[str, Any] = {
        # name-based (RFC 4122 v5): the same row under the same base is the same statement
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/xapi/statements/{row_id}")),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": base, "name": str(record["user_id"])},
        },
        "verb": {"id": verb_iri or f"{base}/xapi/verbs/{name}", "display": {"en-US": name}},
        "object": {
            "objectType": "Activity",
            "id": object_iri,
            "definition": {"type": f"{base}/xapi/activities/{object_type}"},
        },
        "timestamp": record["occurred_at"].isoformat(),
    }
    outcome = record["result"]
    if isinstance(outcome, str):
        outcome = json.loads(outcome)
    if outcome:
        score = {}
        if outcome.get("max_score"):
            score = {
                "raw": outcome["score"],
                "max": outcome["max_score"],
                "min": 0,
                "scaled": round(outcome["score"] / outcome["max_score"], 4),
            }
        result["result"] = {
            "success": bool(outcome.get("success")),
            **({"score": score} if score else {}),
        }
    if record["course_id"]:
        result["context"] = {
            "contextActivities": {"parent": [{"id": _content_iri(base, record["course_id"])}]}
        }
    return result


async def write(
    records: AsyncIterator[asyncpg.Record],
    out: TextIO,
    *,
    fmt: Format,
    base: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    count = 0
    writer: Any = None
    async for record in records:
        if fmt == "csv":
            if writer is None:
                writer = csv.writer(out)
                writer.writerow(list(record.keys()))
            writer.writerow([_csv_value(v) for v in record.values()])
        elif fmt == "jsonl":
            out.write(
                json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False) + "\n"
            )
        else:
            out.write(json.dumps(statement(record, base=base), ensure_ascii=False) + "\n")
        count += 1
        if progress and count % BATCH == 0:
            progress(count)
    if fmt == "csv" and writer is None:
        out.write("")  # an empty view: no rows, and no columns to name
    if progress:
        progress(count)
    return count


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return _plain(value)
