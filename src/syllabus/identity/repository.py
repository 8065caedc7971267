"""Queries on accounts, refresh tokens and login attempts. No rules here, only SQL."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.identity.models import KnownAddress, LoginAttempt, RefreshToken, SignupAttempt, User

_time_zones: list[frozenset[str]] = []


async def time_zones(session: AsyncSession) -> frozenset[str]:
    """The zone names PostgreSQL knows (``pg_timezone_names``, read from its time-zone
    files, so slow: once per process). Python's list differs from it (``localtime``,
    zones newer than the server's tzdata), and every rule using a zone converts in SQL."""
    if not _time_zones:
        result = await session.execute(text("SELECT name FROM pg_timezone_names"))
        _time_zones.append(frozenset(result.scalars()))
    return _time_zones[0]


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """A live user. A query, not ``session.get``: the identity map would hand back an
    account deleted since it was loaded."""
    result = await session.execute(select(User).where(col(User.id) == user_id))
    return result.scalar_one_or_none()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    return result.scalar_one_or_none()


async def list_users(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    role: str | None,
    email_contains: str | None,
) -> list[User]:
    """Users in creation order (UUIDv7 ids sort by time), one row past ``limit``."""
    query = select(User).order_by(col(User.id)).limit(limit + 1)
    if after is not None:
        query = query.where(col(User.id) > after)
    if role is not None:
        query = query.where(col(User.role) == role)
    if email_contains:
        pattern = (
            email_contains.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        )
        query = query.where(col(User.email).like(f"%{pattern}%", escape="\\"))
    return list((await session.execute(query)).scalars().all())


async def refresh_token_owner(session: AsyncSession, token_hash: str) -> uuid.UUID | None:
    """Whose token this is, without locking anything (see :func:`lock_sessions`)."""
    result = await session.execute(
        select(col(RefreshToken.user_id)).where(col(RefreshToken.token_hash) == token_hash)
    )
    return result.scalar_one_or_none()


async def lock_sessions(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """Lock the user's row until this transaction ends (``FOR NO KEY UPDATE``) and return
    the password hash as committed now (``None`` too for an account deleted meanwhile).

    Everything that issues, rotates or revokes the user's refresh tokens takes this lock
    first, so a revocation can never run beside a rotation: each statement after the
    lock sees every token the other committed (READ COMMITTED takes a new snapshot per
    statement), and a rotation that waited reads its token as revoked."""
    result = await session.execute(
        select(col(User.password_hash), col(User.deleted_at))
        .where(col(User.id) == user_id)
        .with_for_update(key_share=True)
        .execution_options(include_deleted=True)
    )
    row = result.one_or_none()
    if row is None or row.deleted_at is not None:
        return None
    password_hash: str | None = row.password_hash
    return password_hash


async def get_refresh_token_for_update(
    session: AsyncSession, token_hash: str
) -> RefreshToken | None:
    """Lock the token row: parallel refreshes with one token are serialised here (and
    read it afresh: the owner may have revoked it while the caller waited)."""
    result = await session.execute(
        select(RefreshToken)
        .where(col(RefreshToken.token_hash) == token_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, *, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def revoke_all_for_user(session: AsyncSession, user_id: uuid.UUID, *, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def _advisory_locks(session: AsyncSession, *keys: str) -> None:
    """Transaction-scoped advisory locks, taken in the order given (callers keep one
    order, address before account, so two never wait for each other)."""
    for key in keys:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def lock_attempts(session: AsyncSession, *, email: str, client_ip: str) -> None:
    """Serialise password checks from one address and on one account until this
    transaction ends, so parallel guesses are counted one after another (each sees the
    failures committed before it) instead of all reading the same count."""
    await _advisory_locks(session, "login-address:" + client_ip, "login:" + email)


async def lock_signups(session: AsyncSession, *, email: str, client_ip: str) -> None:
    """The same for sign-ups, per address and per email."""
    await _advisory_locks(session, "signup-address:" + client_ip, "signup:" + email)


@dataclass(frozen=True)
class FailureCounts:
    """Recent failed logins, the oldest of each window (for Retry-After) and the
    database's clock, so windows never depend on the application server's clock."""

    now: datetime
    account_recent: int
    account_recent_oldest: datetime | None
    account_hour: int
    account_hour_oldest: datetime | None
    address_recent: int
    address_recent_oldest: datetime | None


async def count_failures(
    session: AsyncSession,
    *,
    email: str,
    client_ip: str,
    short_window: timedelta,
    long_window: timedelta,
    known_address: bool,
) -> FailureCounts:
    """One query over the last ``long_window`` of attempts for this account or address.

    From a ``known_address`` only the account's failures from that address count against
    it. The account's short window restarts at its last successful login from this
    address: the owner signing in elsewhere gives a stranger no fresh guesses.
    """
    created_at = col(LoginAttempt.created_at)
    now = func.statement_timestamp()
    account = col(LoginAttempt.email) == email
    here = col(LoginAttempt.client_ip) == client_ip
    if known_address:
        account = and_(account, here)
    last_success = (
        select(func.max(created_at))
        .where(col(LoginAttempt.email) == email, here, col(LoginAttempt.succeeded))
        .scalar_subquery()
    )
    short_start = now - short_window
    account_recent = and_(
        account, created_at > short_start, created_at > func.coalesce(last_success, short_start)
    )
    address_recent = and_(col(LoginAttempt.client_ip) == client_ip, created_at > short_start)
    row = (
        await session.execute(
            select(
                now,
                func.count().filter(account_recent),
                func.min(created_at).filter(account_recent),
                func.count().filter(account),
                func.min(created_at).filter(account),
                func.count().filter(address_recent),
                func.min(created_at).filter(address_recent),
            ).where(
                ~col(LoginAttempt.succeeded),
                created_at > now - long_window,
                or_(account, col(LoginAttempt.client_ip) == client_ip),
            )
        )
    ).one()
    return FailureCounts(*row)


async def forget_attempts(
    session: AsyncSession, *, older_than: timedelta, email: str | None = None
) -> int:
    """Attempts matter for an hour: trim one account's history as its logins go by, or
    (no ``email``) every account's, including addresses that never sign in successfully."""
    stale = col(LoginAttempt.created_at) < func.statement_timestamp() - older_than
    mine = () if email is None else (col(LoginAttempt.email) == email,)
    result = await session.execute(delete(LoginAttempt).where(stale, *mine))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_attempts_of(session: AsyncSession, *, user_id: uuid.UUID, email: str) -> None:
    """Erasure: sign-in and sign-up history and known addresses hold the email and
    client addresses."""
    for table in (LoginAttempt, SignupAttempt):
        await session.execute(
            delete(table).where(or_(col(table.user_id) == user_id, col(table.email) == email))
        )
    await session.execute(delete(KnownAddress).where(col(KnownAddress.user_id) == user_id))


async def is_known_address(
    session: AsyncSession, *, user_id: uuid.UUID, client_ip: str, within: timedelta
) -> bool:
    """Whether the account signed in successfully from this address lately."""
    result = await session.execute(
        select(
            exists().where(
                col(KnownAddress.user_id) == user_id,
                col(KnownAddress.client_ip) == client_ip,
                col(KnownAddress.last_success_at) > func.statement_timestamp() - within,
            )
        )
    )
    return bool(result.scalar_one())


async def remember_address(session: AsyncSession, *, user_id: uuid.UUID, client_ip: str) -> None:
    """Record a successful sign-in from this address (one row per account and address)."""
    now = func.statement_timestamp()
    statement = insert(KnownAddress).values(
        user_id=user_id, client_ip=client_ip, last_success_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[col(KnownAddress.user_id), col(KnownAddress.client_ip)],
            set_={"last_success_at": now},
        )
    )


async def forget_known_addresses(session: AsyncSession, *, older_than: timedelta) -> int:
    stale = col(KnownAddress.last_success_at) < func.statement_timestamp() - older_than
    result = await session.execute(delete(KnownAddress).where(stale))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SignupCounts:
    """Sign-ups in the window from this address and naming this email, with the oldest
    of each (for Retry-After) and the database's clock."""

    now: datetime
    address: int
    address_oldest: datetime | None
    email: int
    email_oldest: datetime | None


async def count_signups(
    session: AsyncSession, *, email: str, client_ip: str, window: timedelta
) -> SignupCounts:
    created_at = col(SignupAttempt.created_at)
    now = func.statement_timestamp()
    by_address = col(SignupAttempt.client_ip) == client_ip
    by_email = col(SignupAttempt.email) == email
    row = (
        await session.execute(
            select(
                now,
                func.count().filter(by_address),
                func.min(created_at).filter(by_address),
                func.count().filter(by_email),
                func.min(created_at).filter(by_email),
            ).where(created_at > now - window, or_(by_address, by_email))
        )
    ).one()
    return SignupCounts(*row)


async def forget_signups(session: AsyncSession, *, older_than: timedelta) -> int:
    stale = col(SignupAttempt.created_at) < func.statement_timestamp() - older_than
    result = await session.execute(delete(SignupAttempt).where(stale))
    return int(result.rowcount)  # type: ignore[attr-defined]
