"""What a dry run shows of each updated document: the fields that differ from the stored
version, and for a lesson body a short unified diff, so an author can review a load."""

import difflib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syllabus.content.loader.load import MongoDatabase, Plan
from syllabus.content.loader.stored import NOT_HASHED

BODY_FIELD = "source"
MAX_DIFF_LINES = 40


@dataclass(frozen=True)
class Difference:
    fields: list[str]
    body: list[str] = field(default_factory=list)  # unified diff lines of a lesson body


async def differences(database: MongoDatabase, plan: Plan) -> dict[str, Difference]:
    """For every ``update`` of the plan: one read per collection of the stored documents."""
    updates: dict[str, list[str]] = {}
    for change in plan.changes:
        if change.action == "update":
            updates.setdefault(change.collection, []).append(change.content_id)
    found: dict[str, Difference] = {}
    for collection, ids in updates.items():
        async for old in database[collection].find({"_id": {"$in": ids}}):
            new = plan.documents[old["_id"]].stored_form(0, datetime.now(UTC), None)
            found[old["_id"]] = compare(old, new, name=old["_id"], version=old.get("version"))
    return found


def compare(old: dict[str, Any], new: dict[str, Any], *, name: str, version: Any) -> Difference:
    ignored = NOT_HASHED | {"_id"}
    keys = sorted((set(old) | set(new)) - ignored)
    fields = [key for key in keys if old.get(key) != new.get(key)]
    body: list[str] = []
    if BODY_FIELD in fields:
        lines = list(
            difflib.unified_diff(
                str(old.get(BODY_FIELD, "")).splitlines(),
                str(new.get(BODY_FIELD, "")).splitlines(),
                fromfile=f"{name} v{version}",
                tofile=f"{name} (folder)",
                lineterm="",
                n=1,
            )
        )
        body = lines[:MAX_DIFF_LINES]
        if len(lines) > MAX_DIFF_LINES:
            body.append(f"… {len(lines) - MAX_DIFF_LINES} more line(s)")
    return Difference(fields, body)
