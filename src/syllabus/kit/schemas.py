"""Base classes for API schemas, kept apart from tables and documents.

Input schemas forbid unknown fields, so a ``role`` smuggled into a sign-up or profile
update is a 422 instead of a silent privilege change (mass assignment).
"""

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

WHITE_SPACE = r"\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Unicode's White_Space, spelled out for a pattern's character class. ``\\s`` is this set
in the server's Rust regex (and what ``strip_whitespace`` strips), but the OpenAPI's
ECMA-262 reading adds U+FEFF and leaves out U+0085, and Python's adds U+001C-U+001F: a
schema written with ``\\s`` or ``\\S`` promised clients names and links the server refused."""


def contains_nul(value: Any) -> bool:
    """Whether a string anywhere in ``value`` holds U+0000, which PostgreSQL's text and
    jsonb cannot store (the insert would fail with a server error)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def contains_non_finite(value: Any) -> bool:
    """Whether a number anywhere in ``value`` is NaN or infinite. JSON has no such
    numbers, but Python's parser reads ``NaN``, ``Infinity`` and ``1e999`` (as inf), and
    PostgreSQL's jsonb and numeric refuse them (the write would fail with a server error)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(contains_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_non_finite(item) for item in value)
    return False


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error, and so are a NUL character in any
    string (found by the API fuzzer: it reached PostgreSQL and failed there as a 500) and
    a number that is not finite, however deep in the body (``allow_inf_nan`` covers only
    fields typed ``float``; the validator covers free-form JSON such as a resume position).

    Every JSON body of the API is one of these (tests/test_limits.py checks it), so these
    refusals live here once rather than in each schema."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if contains_nul(value):
            raise PydanticCustomError("nul_character", "must not contain NUL (U+0000) characters")
        if contains_non_finite(value):
            raise PydanticCustomError(
                "finite_number", "must be a finite number (not NaN or Infinity)"
            )
        return value


class OutputSchema(BaseModel):
    """Response bodies: built from ORM rows or documents by attribute.

    ``defer_build``: each schema's validator and serializer are built when first used (or
    by ``app.openapi()``), not at import, and so are the FastAPI response fields of routes
    that answer with one: most routes are never called in a given worker, and the built
    schemas were megabytes of its RSS (docs/operations.md, "Memory and garbage
    collection"). Not on :class:`InputSchema`: a request body's field deferred this way
    warns (pydantic's ``UnsupportedFieldAttributeWarning``, about the parameter's alias)
    when its first request builds it, outside FastAPI's silencing."""

    model_config = ConfigDict(from_attributes=True, defer_build=True)
