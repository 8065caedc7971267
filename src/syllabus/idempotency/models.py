"""One row per (user, Idempotency-Key): the request it was first used with and the
answer given, written in the same transaction as the write it answers."""

import uuid

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from syllabus.db.sql import Base

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 255


class IdempotencyRecord(Base, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(
            f"length(key) BETWEEN {MIN_KEY_LENGTH} AND {MAX_KEY_LENGTH}", name="key_length"
        ),
        CheckConstraint("method IN ('POST', 'PUT', 'PATCH', 'DELETE')", name="method"),
        CheckConstraint("request_hash ~ '^[0-9a-f]{64}$'", name="request_hash_sha256"),
        # Only successes are kept: a failed request rolls back, its key stays unused.
        CheckConstraint("response_status BETWEEN 200 AND 299", name="response_status"),
    )

    # Leads the unique constraint; its rows go with a hard-deleted user, and erasure
    # deletes them explicitly (stored answers can hold notes).
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    key: str
    method: str
    route: str
    request_hash: str
    response_status: int
    response_body: str
