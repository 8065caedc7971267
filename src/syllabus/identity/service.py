"""Account rules: sign-up, sign-in with throttling, token rotation with reuse detection,
profile changes, erasure, and what admins may do. Services never commit; the request's
unit of work does (see ``syllabus.db.sql.unit_of_work``)."""

import math
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.config import Settings
from syllabus.db.activity import record_activity
from syllabus.db.sql import acting_as
from syllabus.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from syllabus.idempotency import service as idempotency
from syllabus.identity import repository
from syllabus.identity.models import LoginAttempt, RefreshToken, User
from syllabus.identity.schemas import (
    AdminUserUpdate,
    PasswordChange,
    TokenPair,
    UserRegister,
    UserUpdate,
)
from syllabus.identity.security import (
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    verify_password,
)

# Throttling (ASVS V6.3): per account, 5 failures in 15 minutes since its last success;
# never more than 100 failures an hour per account; 30 failures in 15 minutes per address.
SHORT_WINDOW = timedelta(minutes=15)
LONG_WINDOW = timedelta(hours=1)
ACCOUNT_MAX_RECENT_FAILURES = 5
ACCOUNT_MAX_HOURLY_FAILURES = 100
ADDRESS_MAX_RECENT_FAILURES = 30
ERASED_NAME = "Erased user"


class SignInRequired(Unauthorized):
    """No bearer token was sent to an operation that needs one (or to open a lesson of a
    paid course): sign in."""

    title = "Sign-in required"
    code = "sign-in-required"


class TokenRejected(Unauthorized):
    """The access token is malformed, expired, or its account is gone: refresh it, or
    sign in again."""

    title = "Invalid access token"
    code = "invalid-token"


class RoleRequired(Forbidden):
    """The caller is signed in, but their role may not use this operation."""

    title = "Role required"
    code = "role-required"


class InvalidCredentials(Unauthorized):
    """Sign-in with an email and password that do not match an account (the failure is
    recorded and counts toward the throttle)."""

    title = "Invalid credentials"
    code = "invalid-credentials"
    keeps_writes = True  # the failed attempt must be recorded although the request fails

    def __init__(self) -> None:
        super().__init__("email or password is incorrect")


class WrongPassword(Unauthorized):
    """A password change named a current password that is not the account's."""

    title = "Wrong password"
    code = "wrong-password"


class LoginThrottled(TooManyRequests):
    """Too many failed sign-ins for this account or from this address; ``Retry-After``
    (and ``retry_after``) says how many seconds to wait."""

    title = "Too many sign-in attempts"
    code = "login-throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed sign-in attempts; try again later",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class RefreshRejected(Unauthorized):
    """The refresh token is unknown, expired or already used (a reuse revokes the whole
    sign-in): sign in again."""

    title = "Refresh token rejected"
    code = "refresh-rejected"
    keeps_writes = True  # a detected reuse revokes the family, and that must stick


class EmailTaken(Conflict):
    """Sign-up with an email that already has an account."""

    title = "Email taken"
    code = "email-taken"

    def __init__(self) -> None:
        super().__init__("an account with this email already exists", field="email")


class OwnAccount(Conflict):
    """An admin tried to change their own role or account through the admin API; another
    admin must."""

    title = "Own account"
    code = "own-account"


def _now() -> datetime:
    return datetime.now(UTC)


async def register(*, session: AsyncSession, data: UserRegister) -> User:
    if await repository.get_user_by_email(session, data.email) is not None:
        raise EmailTaken
    user = User(email=data.email, name=data.name, password_hash=await hash_password(data.password))
    with acting_as(user.id):
        session.add(user)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # a concurrent sign-up with the same email won the race
            raise EmailTaken from None
        # The new account is the actor of its own sign-up, on its row and its event.
        await record_activity(
            session,
            actor_id=user.id,
            verb="registered",
            object_type="user",
            object_id=str(user.id),
        )
    return user


def _retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


async def _refuse_if_throttled(*, session: AsyncSession, email: str, client_ip: str) -> None:
    counts = await repository.count_failures(
        session,
        email=email,
        client_ip=client_ip,
        short_window=SHORT_WINDOW,
        long_window=LONG_WINDOW,
    )
    waits = []
    if counts.account_recent >= ACCOUNT_MAX_RECENT_FAILURES:
        waits.append(_retry_after(counts.account_recent_oldest, SHORT_WINDOW, counts.now))
    if counts.account_hour >= ACCOUNT_MAX_HOURLY_FAILURES:
        waits.append(_retry_after(counts.account_hour_oldest, LONG_WINDOW, counts.now))
    if counts.address_recent >= ADDRESS_MAX_RECENT_FAILURES:
        waits.append(_retry_after(counts.address_recent_oldest, SHORT_WINDOW, counts.now))
    if waits:
        raise LoginThrottled(max(waits))


async def _issue_tokens(
    *,
    session: AsyncSession,
    settings: Settings,
    user: User,
    family_id: uuid.UUID,
    expires_at: datetime,
) -> tuple[TokenPair, RefreshToken]:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    token, token_hash = new_refresh_token()
    refresh = RefreshToken(
        user_id=user.id,
        token_hash=token_hash,
        family_id=family_id,
        expires_at=expires_at,
    )
    session.add(refresh)
    await session.flush()
    access = create_access_token(
        user_id=user.id,
        role=user.role,
        secret=settings.jwt_secret.get_secret_value(),
        lifetime=lifetime,
    )
    pair = TokenPair(
        access_token=access, refresh_token=token, expires_in=int(lifetime.total_seconds())
    )
    return pair, refresh


async def login(
    *, session: AsyncSession, settings: Settings, email: str, password: str, client_ip: str
) -> TokenPair:
    """Throttle first (no hash work for a locked account), then verify in constant-ish
    time: an unknown email is checked against a dummy hash like a wrong password.

    Attempts on one account are serialised by a transaction-scoped advisory lock, so
    parallel guesses are counted one after another instead of all reading the same
    count; the lock is released when the attempt's row is committed.
    """
    email = email.strip().lower()
    await repository.lock_account_attempts(session, email=email)
    await _refuse_if_throttled(session=session, email=email, client_ip=client_ip)
    user = await repository.get_user_by_email(session, email)
    check = await verify_password(user.password_hash if user else None, password)
    session.add(
        LoginAttempt(
            email=email, client_ip=client_ip, succeeded=check.ok, user_id=user.id if user else None
        )
    )
    await repository.forget_attempts(session, email=email, older_than=LONG_WINDOW)
    if not check.ok or user is None:
        await session.flush()
        raise InvalidCredentials
    # A password change (or deletion) committed while the hash was being checked wins:
    # the sign-in that raced it must not mint a session the change already revoked.
    if await repository.lock_sessions(session, user.id) != user.password_hash:
        await session.flush()
        raise InvalidCredentials
    with acting_as(user.id):
        if check.needs_rehash:
            user.password_hash = await hash_password(password)
        pair, _ = await _issue_tokens(
            session=session,
            settings=settings,
            user=user,
            family_id=uuid.uuid4(),
            expires_at=_now() + timedelta(days=settings.refresh_token_days),
        )
    return pair


async def refresh(*, session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent and replaced within its family. Presenting a
    spent or revoked token again means it leaked: the whole family is revoked."""
    token_hash = hash_refresh_token(refresh_token)
    owner = await repository.refresh_token_owner(session, token_hash)
    if owner is None:
        raise RefreshRejected("refresh token is not valid")
    # The owner's lock first, then the token as it is once we hold it: a revocation of
    # every session either saw this rotation's successor or revoked the token we read.
    await repository.lock_sessions(session, owner)
    current = await repository.get_refresh_token_for_update(session, token_hash)
    if current is None:
        raise RefreshRejected("refresh token is not valid")
    now = _now()
    if current.revoked_at is not None or current.replaced_by is not None:
        with acting_as(current.user_id):
            await repository.revoke_family(session, current.family_id, at=now)
        raise RefreshRejected("refresh token was already used; the sign-in has been revoked")
    if current.expires_at <= now:
        raise RefreshRejected("refresh token has expired")
    user = await repository.get_user(session, current.user_id)
    if user is None:
        raise RefreshRejected("refresh token is not valid")
    with acting_as(user.id):
        # A rotation never extends the sign-in: the family expires when its first
        # token would have, and then the user signs in again.
        pair, replacement = await _issue_tokens(
            session=session,
            settings=settings,
            user=user,
            family_id=current.family_id,
            expires_at=current.expires_at,
        )
        current.revoked_at = now
        current.replaced_by = replacement.id
        await session.flush()
    return pair


async def logout(*, session: AsyncSession, refresh_token: str) -> None:
    """End one sign-in (its whole family). Unknown tokens are ignored: logging out twice
    is not an error, and the answer reveals nothing about the token."""
    token_hash = hash_refresh_token(refresh_token)
    owner = await repository.refresh_token_owner(session, token_hash)
    if owner is None:
        return
    await repository.lock_sessions(session, owner)  # a rotation in flight finishes first
    token = await repository.get_refresh_token_for_update(session, token_hash)
    if token is not None:
        with acting_as(token.user_id):
            await repository.revoke_family(session, token.family_id, at=_now())


async def purge_stale_attempts(*, session: AsyncSession) -> int:
    """Sign-in attempts older than the longest throttle window count for nothing."""
    return await repository.forget_attempts(session, older_than=LONG_WINDOW)


async def _revoke_all(*, session: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    """End every sign-in, under the lock every rotation takes (see
    ``repository.lock_sessions``): a rotation in flight now finishes before the
    revocation and its successor is revoked with the rest, or it waits and is refused."""
    await repository.lock_sessions(session, user_id)
    await repository.revoke_all_for_user(session, user_id, at=at)


async def logout_all(*, session: AsyncSession, user: User) -> None:
    await _revoke_all(session=session, user_id=user.id, at=_now())


async def authenticate(*, session: AsyncSession, settings: Settings, token: str) -> User:
    try:
        claims = decode_access_token(token, secret=settings.jwt_secret.get_secret_value())
    except InvalidToken:
        raise TokenRejected("access token is invalid or expired") from None
    user = await repository.get_user(session, claims.user_id)
    if user is None:  # erased or deleted since the token was issued
        raise TokenRejected("access token is invalid or expired")
    return user


async def update_profile(*, session: AsyncSession, user: User, data: UserUpdate) -> User:
    """Name and time zone; the zone must be one PostgreSQL knows, since the streak and
    activity-day rules convert with it in SQL (a zone only Python knows broke them)."""
    if data.time_zone is not None and data.time_zone not in await repository.time_zones(session):
        message = "must be a time zone name the database knows, such as Europe/Berlin"
        raise ValidationFailed(
            f"time_zone {message}",
            field="time_zone",
            errors=[
                {"field": "time_zone", "in": "body", "message": message, "type": "value_error"}
            ],
        )
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            continue
        setattr(user, field, value)
    await session.flush()
    return user


async def change_password(*, session: AsyncSession, user: User, data: PasswordChange) -> None:
    """Needs the current password; every refresh family is revoked afterwards."""
    if not (await verify_password(user.password_hash, data.current_password)).ok:
        raise WrongPassword("current password is incorrect", field="current_password")
    if data.new_password.strip().lower() == user.email:
        message = "must not be the email address"
        raise ValidationFailed(
            f"new password {message}",
            field="new_password",
            errors=[
                {"field": "new_password", "in": "body", "message": message, "type": "value_error"}
            ],
        )
    user.password_hash = await hash_password(data.new_password)
    await _revoke_all(session=session, user_id=user.id, at=_now())
    await session.flush()


async def erase_account(*, session: AsyncSession, user: User) -> None:
    """Soft-delete and anonymise the account; learning records stay, pseudonymous (they
    point at a user id that no longer has a name, email or password)."""
    now = _now()
    await repository.forget_attempts_of(session, user_id=user.id, email=user.email)
    await idempotency.forget_user(session, user_id=user.id)
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.name = ERASED_NAME
    user.password_hash = None
    user.email_verified = False
    user.deleted_at = now
    await _revoke_all(session=session, user_id=user.id, at=now)
    await session.flush()


async def user_by_id(*, session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """A live account, for other domains acting on a user by id (admin enrollment)."""
    return await repository.get_user(session, user_id)


async def list_users(
    *,
    session: AsyncSession,
    after: uuid.UUID | None,
    limit: int,
    role: str | None,
    email_contains: str | None,
) -> list[User]:
    return await repository.list_users(
        session, after=after, limit=limit, role=role, email_contains=email_contains
    )


async def _other_user(*, session: AsyncSession, actor: User, user_id: uuid.UUID) -> User:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound("no such user", field="user_id")
    if user.id == actor.id:
        raise OwnAccount("admins cannot change their own role or account here; ask another admin")
    return user


async def admin_update_user(
    *, session: AsyncSession, actor: User, user_id: uuid.UUID, data: AdminUserUpdate
) -> User:
    user = await _other_user(session=session, actor=actor, user_id=user_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(user, field, value)
    await session.flush()
    return user


async def admin_delete_user(*, session: AsyncSession, actor: User, user_id: uuid.UUID) -> None:
    """Soft delete: the account can no longer sign in and its sessions end. Erasure of
    personal data is the account holder's own ``DELETE /users/me``."""
    user = await _other_user(session=session, actor=actor, user_id=user_id)
    now = _now()
    user.deleted_at = now
    await _revoke_all(session=session, user_id=user.id, at=now)
    await session.flush()


async def ensure_admin(*, session: AsyncSession, data: UserRegister) -> tuple[User, bool]:
    """The first admin, from the command line: create the account as admin, or promote
    an existing one (its password is left alone). Returns the user and whether it is new.
    The command line has no signed-in user: the account is recorded as the actor of its
    own creation or promotion, as a sign-up is."""
    user = await repository.get_user_by_email(session, data.email)
    created = user is None
    if user is None:
        user = await register(session=session, data=data)
    with acting_as(user.id):
        user.role = "admin"
        await session.flush()
    return user, created
