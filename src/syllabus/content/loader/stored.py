"""A built content document as the loader holds it until it is written: its BSON bytes,
plus the few fields the plan compares.

A whole folder is validated before anything is written, so every document of a load is
alive at once. As a model object (with its parsed blocks, nested models and field sets) a
lesson weighs many times its source; as BSON it weighs about what MongoDB will store, and
it is decoded back into a dict only for the write batch that sends it.

The hash is the SHA-256 of the document's canonical JSON (sorted keys, no whitespace),
leaving out what the loader itself sets (version, hash, load time, source) and the
publication status (compared on its own), so identical authored content always hashes the
same. An empty ``competencies`` list is left out too, so content written before
competencies existed keeps the hash it was stored with.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import bson

from syllabus.content.documents import CONTENT_MODELS, VersionedContent

PLACEHOLDER_HASH = "0" * 64
NOT_HASHED = frozenset(
    {"id", "revision_id", "version", "content_hash", "loaded_at", "status", "source_id"}
)
MODELS: dict[str, type[VersionedContent]] = {model.Settings.name: model for model in CONTENT_MODELS}


def content_hash(document: VersionedContent) -> str:
    data = document.model_dump(mode="json", exclude=set(NOT_HASHED))
    data["_id"] = document.id
    if not data.get("competencies"):  # documents hashed before competencies keep their hash
        data.pop("competencies", None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Stored:
    """One document of a load: where it goes, what the plan compares, and its BSON."""

    collection: str
    id: str
    status: str
    content_hash: str
    bson: bytes = field(repr=False)  # see Plan.__repr__

    def stored_form(self, version: int, now: datetime, source: str | None) -> dict[str, Any]:
        """The document as written, with the version, load time and source of this write."""
        data: dict[str, Any] = bson.decode(self.bson)
        data.update(version=version, loaded_at=now, source_id=source)
        # BSON puts _id first; the version snapshot has always had it last.
        data["_id"] = data.pop("_id")
        return data

    def model(self) -> VersionedContent:
        """The document as a model object again (for tools; a load never needs it)."""
        model: VersionedContent = MODELS[self.collection].model_validate(bson.decode(self.bson))
        return model


def store(document: VersionedContent) -> Stored:
    """Hash and encode a freshly built document; the model object can then be dropped."""
    digest = content_hash(document)
    data: dict[str, Any] = document.model_dump(mode="python", exclude={"id", "revision_id"})
    data.update(_id=document.id, content_hash=digest)
    return Stored(
        collection=type(document).Settings.name,
        id=document.id,
        status=document.status,
        content_hash=digest,
        bson=bson.encode(data),
    )
