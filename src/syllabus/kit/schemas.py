"""Base classes for API schemas, kept apart from tables and documents.

Input schemas forbid unknown fields, so a ``role`` smuggled into a sign-up or profile
update is a 422 instead of a silent privilege change (mass assignment).
"""

from pydantic import BaseModel, ConfigDict


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class OutputSchema(BaseModel):
    """Response bodies: built from ORM rows or documents by attribute."""

    model_config = ConfigDict(from_attributes=True)
