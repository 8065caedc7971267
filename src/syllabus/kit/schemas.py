"""Base classes for API schemas, kept apart from tables and documents.

Input schemas forbid unknown fields, so a ``role`` smuggled into a sign-up or profile
update is a 422 instead of a silent privilege change (mass assignment).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError


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


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error, and so is a NUL character in any
    string (found by the API fuzzer: it reached PostgreSQL and failed there as a 500)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise PydanticCustomError("nul_character", "must not contain NUL (U+0000) characters")
        return value


class OutputSchema(BaseModel):
    """Response bodies: built from ORM rows or documents by attribute."""

    model_config = ConfigDict(from_attributes=True)
