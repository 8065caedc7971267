"""Accounts and sessions. Email is unique case-insensitively among live users only, so
an erased (soft-deleted, anonymised) account frees its address."""

import uuid
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint, text
from sqlmodel import Field
from typing_extensions import TypeAliasType

from syllabus.db.sql import Base
from syllabus.kit.vocabulary import sql_in

Role = TypeAliasType("Role", Literal["student", "author", "admin", "teacher"])
"""A named alias: one ``Role`` enum in OpenAPI."""
ROLES: tuple[Role, ...] = get_args(Role.__value__)
STAFF_ROLES: tuple[Role, ...] = ("author", "admin")
REVIEWER_ROLES: tuple[Role, ...] = ("teacher", "admin")
"""Who grades the review queues (expert exam tasks, homework): DECISIONS 3. A teacher is
not staff: no drafts, no free access to paid content, and the queues never show them a
learner's name or email."""


def is_staff(user: "User | None") -> bool:
    """Authors and admins see drafts and every lesson, whatever it costs. Teachers do not."""
    return user is not None and user.role in STAFF_ROLES


class User(Base, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(sql_in("role", ROLES), name="role"),
        CheckConstraint("email = lower(btrim(email)) AND email LIKE '%_@_%'", name="email"),
        CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("length(time_zone) BETWEEN 1 AND 64", name="time_zone"),
        Index(
            "uq_users_email_live",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_users_role", "role"),
    )

    email: str
    password_hash: str | None = None
    name: str
    role: str = Field(default="student", sa_column_kwargs={"server_default": "student"})
    email_verified: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    time_zone: str = Field(default="UTC", sa_column_kwargs={"server_default": "UTC"})


class RefreshToken(Base, table=True):
    """Only the SHA-256 of a token is stored; ``family_id`` groups one login's rotations."""

    __tablename__ = "auth_refresh_tokens"
    __table_args__ = (CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'", name="token_hash_sha256"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(unique=True)
    family_id: uuid.UUID = Field(index=True)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    replaced_by: uuid.UUID | None = Field(
        default=None, foreign_key="auth_refresh_tokens.id", index=True
    )


class LoginAttempt(Base, table=True):
    """Every password sign-in, to throttle guessing per account and address in PostgreSQL
    itself (no Redis). ``created_at`` is when it happened. An account's rows older than
    an hour are trimmed at its next attempt, and all of them go with the account."""

    __tablename__ = "auth_login_attempts"
    __table_args__ = (
        Index("ix_auth_login_attempts_email_created_at", "email", "created_at"),
        Index("ix_auth_login_attempts_client_ip_created_at", "client_ip", "created_at"),
    )

    email: str
    client_ip: str
    succeeded: bool
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )


class SignupAttempt(Base, table=True):
    """Every sign-up the API answered (created, or refused because the email is taken),
    to throttle account farming and "does this email have an account?" probing per
    client address and per email. ``user_id`` is the account the email belonged to or
    became, so the rows go with it. Kept for the sign-up window (``syllabus purge``)."""

    __tablename__ = "auth_signup_attempts"
    __table_args__ = (
        Index("ix_auth_signup_attempts_email_created_at", "email", "created_at"),
        Index("ix_auth_signup_attempts_client_ip_created_at", "client_ip", "created_at"),
    )

    email: str
    client_ip: str
    created: bool
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )


class KnownAddress(Base, table=True):
    """A client address the account signed in from successfully (the targeted-lockout
    rule: failures from elsewhere never lock the owner out here). Forgotten after
    ``SYLLABUS_KNOWN_ADDRESS_DAYS`` without a sign-in, and with the account."""

    __tablename__ = "auth_known_addresses"
    __table_args__ = (UniqueConstraint("user_id", "client_ip"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    client_ip: str
    last_success_at: datetime = Field(sa_type=DateTime(timezone=True))
