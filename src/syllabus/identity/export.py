"""``GET /users/me/export``: everything stored about the caller, as one JSON document.

Each domain registers a section with :func:`export_section` (or :func:`export_table`, the
common case) naming the tables it covers, or declares with :func:`not_exported` why a
table that mentions a user is not theirs to take away; the endpoint only walks the
registry, so data that later features add is exported without touching it, and a test
holds the registry to the schema (every table that holds a user's data is covered or
declared). The export speaks the API's ids: a course is ``course:…``, never the
catalog's internal key.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from syllabus.idempotency.models import IdempotencyRecord
from syllabus.identity.models import (
    KnownAddress,
    LoginAttempt,
    RefreshToken,
    SignupAttempt,
    User,
)

ExportSection = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]
IdOf = Callable[[ColumnElement[Any]], ColumnElement[Any]]
"""Turns a column holding an internal key into the id the API speaks (a SQL expression)."""


@dataclass(frozen=True)
class RowShape:
    """What a section holds, for the OpenAPI document: rows of ``model`` (or one, for
    ``many=False``), without the secret and ``leave_out`` columns, the ``ids`` columns
    turned into the API's string ids."""

    model: type[SQLModel]
    ids: tuple[str, ...] = ()
    leave_out: tuple[str, ...] = ()
    many: bool = True

    def row_schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema(mode="serialization")
        properties: dict[str, Any] = {}
        string_id: dict[str, Any] = {"type": "string"}
        for name, field in schema["properties"].items():
            if name in NEVER_EXPORTED or name in self.leave_out:
                continue
            shown = field
            if name in self.ids:
                nullable = {"type": "null"} in field.get("anyOf", [])
                shown = {"anyOf": [string_id, {"type": "null"}]} if nullable else string_id
            properties[name] = {k: v for k, v in shown.items() if k != "default"}
        return {"type": "object", "properties": properties, "required": sorted(properties)}


@dataclass(frozen=True)
class Section:
    run: ExportSection
    tables: tuple[str, ...]
    shape: RowShape | None


_SECTIONS: dict[str, Section] = {}
_NOT_EXPORTED: dict[str, str] = {}

NEVER_EXPORTED = frozenset({"password_hash", "token_hash"})
"""Secrets derived from the user's credentials: useless to them, dangerous in a file."""


def export_section(
    name: str, *, tables: Iterable[str], shape: RowShape | None = None
) -> Callable[[ExportSection], ExportSection]:
    """Register a section holding the user's rows of ``tables``, shaped like ``shape``
    (documented in OpenAPI; without one, a free-form JSON value)."""

    def register(section: ExportSection) -> ExportSection:
        if name in _SECTIONS:
            raise ValueError(f"export section {name!r} is registered twice")
        _SECTIONS[name] = Section(section, tuple(tables), shape)
        return section

    return register


def not_exported(table: str, reason: str) -> None:
    """Declare a table that mentions users but holds nothing that is theirs to take."""
    _NOT_EXPORTED[table] = reason


def section_names() -> list[str]:
    return sorted(_SECTIONS)


def exported_tables() -> dict[str, str]:
    """Table → the section that exports it."""
    return {table: name for name, section in _SECTIONS.items() for table in section.tables}


def declared_not_exported() -> dict[str, str]:
    """Table → why it is not exported."""
    return dict(_NOT_EXPORTED)


def table_of(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def row_to_dict(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(exclude=set(NEVER_EXPORTED))


async def rows_of_user(
    session: AsyncSession,
    table: type[SQLModel],
    user_id: uuid.UUID,
    *,
    owner: str = "user_id",
    through: tuple[str, type[SQLModel]] | None = None,
    ids: Mapping[str, IdOf] | None = None,
    leave_out: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Every row of ``table`` whose ``owner`` column is the user, soft-deleted ones
    included (it is their data until it is purged), with the columns in ``ids`` turned
    into the API's ids and the ``leave_out`` ones (and any secret) left out.

    ``through=(column, parent)``: a row without an owner of its own (an attempt's answer
    log, its result versions) is the user's when ``column`` points at a ``parent`` row
    whose ``owner`` is the user."""
    columns = table_of(table)
    ids = ids or {}
    skipped = NEVER_EXPORTED | set(leave_out)
    mine: ColumnElement[bool] = (
        columns.c[owner] == user_id
        if through is None
        else columns.c[through[0]].in_(
            select(table_of(through[1]).c.id).where(table_of(through[1]).c[owner] == user_id)
        )
    )
    result = await session.execute(
        select(
            *(
                ids[column.name](column).label(column.name) if column.name in ids else column
                for column in columns.c
                if column.name not in skipped
            )
        )
        .where(mine)
        .order_by(columns.c.id),
        execution_options={"include_deleted": True},
    )
    return [dict(row) for row in result.mappings()]


def export_table(
    name: str,
    table: type[SQLModel],
    *,
    owner: str = "user_id",
    ids: Mapping[str, IdOf] | None = None,
    leave_out: Iterable[str] = (),
) -> None:
    """The common case: a section holding every row of a table that the user owns."""
    left_out = tuple(leave_out)

    async def section(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
        return await rows_of_user(session, table, user_id, owner=owner, ids=ids, leave_out=left_out)

    shape = RowShape(table, ids=tuple(ids or ()), leave_out=left_out)
    export_section(name, tables=[table_of(table).name], shape=shape)(section)


def export_schemas() -> dict[str, Any]:
    """OpenAPI components: ``UserExport`` (one property per section) and a row schema per
    section, ``<Section>ExportRow``; built from the registry, so a new section is typed
    without touching the route."""
    components: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for name in section_names():
        shape = _SECTIONS[name].shape
        if shape is None:
            properties[name] = {"description": "Free-form JSON."}
            continue
        row = "".join(part.title() for part in name.split("_")) + "ExportRow"
        components[row] = shape.row_schema()
        ref = {"$ref": f"#/components/schemas/{row}"}
        properties[name] = (
            {"type": "array", "items": ref} if shape.many else {"anyOf": [ref, {"type": "null"}]}
        )
    components["UserExport"] = {
        "type": "object",
        "description": "Everything stored about the caller, one section per kind of record.",
        "properties": properties,
        "required": sorted(properties),
    }
    return components


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Everything stored about me",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserExport"}}},
    }
}


async def export_user_data(*, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    data = {name: await _SECTIONS[name].run(session, user_id) for name in section_names()}
    exported: dict[str, Any] = to_jsonable_python(data)
    return exported


@export_section("profile", tables=["users"], shape=RowShape(User, many=False))
async def _profile(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any] | None:
    user = await session.get(User, user_id)
    return row_to_dict(user) if user is not None else None


export_table("sessions", RefreshToken)
export_table("sign_in_attempts", LoginAttempt)
export_table("sign_up_attempts", SignupAttempt)
export_table("known_addresses", KnownAddress)
# The keys of the user's retried writes (kept 24 h), without the stored answer: a copy of
# a response already given whose data the other sections hold, and a quiz submission's
# copy can carry a review that the quiz's policy has closed since (DECISIONS 14).
export_table("idempotency_keys", IdempotencyRecord, leave_out=("response_body", "request_hash"))
