"""Account rules: sign-up, sign-in with throttling, token rotation with reuse detection,
profile changes, erasure, and what admins may do. Services never commit; the request's
unit of work does (see ``syllabus.db.sql.unit_of_work``)."""

import math
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from syllabus.idempotency import service as idempotency
from syllabus.identity import repository
from syllabus.identity.hooks import account_erased
from syllabus.identity.models import LoginAttempt, RefreshToken, SignupAttempt, User
from syllabus.identity.schemas import (
    AdminUserUpdate,
    PasswordChange,
    TokenPair,
    UserRegister,
    UserUpdate,
)
from syllabus.identity.security import (
    InvalidToken,
    PasswordWorkRefused,
    create_access_token,
    decode_access_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    password_work,
    verify_password,
)

# Throttling (ASVS V6.3), limits from the settings (SYLLABUS_SIGNIN_*): per account, 5
# failures in 15 minutes since its last success here; never more than 100 failures an hour
# per account; 30 failures in 15 minutes per address. Attempts are kept for the hour.
LONG_WINDOW = timedelta(hours=1)
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
    """A password change named a current password that is not the account's (recorded
    as a failed sign-in: it counts toward the sign-in throttle)."""

    title = "Wrong password"
    code = "wrong-password"
    keeps_writes = True  # counted like a failed sign-in: the record must stick


class LoginThrottled(TooManyRequests):
    """Too many failed sign-ins (or wrong current passwords) for this account or from
    this address; ``Retry-After`` (and ``retry_after``) says how many seconds to wait."""

    title = "Too many sign-in attempts"
    code = "login-throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed sign-in attempts; try again later",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class SignupThrottled(TooManyRequests):
    """Too many sign-ups from this address, or naming this email, within the sign-up
    window; ``Retry-After`` (and ``retry_after``) says how many seconds to wait."""

    title = "Too many sign-ups"
    code = "signup-throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many sign-ups from this address or for this email; try again later",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class PasswordWorkThrottled(TooManyRequests):
    """This client address already has as many sign-ins, sign-ups or password changes in
    progress as it may (``SYLLABUS_PASSWORD_WORK_MAX_PER_ADDRESS``): retry in a second."""

    title = "Too many password checks in progress"
    code = "password-work-throttled"

    def __init__(self) -> None:
        super().__init__(
            "too many sign-ins or sign-ups in progress from this address; retry in a moment",
            headers={"Retry-After": "1"},
            retry_after=1,
        )


class PasswordWorkBusy(ServiceUnavailable):
    """Every place in the password-hashing queue is taken
    (``SYLLABUS_PASSWORD_WORK_MAX_PENDING``): refused at once rather than queued; retry
    in a second."""

    title = "Password checks saturated"
    code = "password-work-busy"

    def __init__(self) -> None:
        super().__init__(
            "too many sign-ins or sign-ups in progress; retry in a moment",
            headers={"Retry-After": "1"},
            retry_after=1,
        )


class RefreshRejected(Unauthorized):
    """The refresh token is unknown, expired or already used (a reuse revokes the whole
    sign-in): sign in again."""

    title = "Refresh token rejected"
    code = "refresh-rejected"
    keeps_writes = True  # a detected reuse revokes the family, and that must stick


class EmailTaken(Conflict):
    """Sign-up with an email that already has an account (the attempt counts toward the
    sign-up throttle)."""

    title = "Email taken"
    code = "email-taken"
    keeps_writes = True  # the sign-up attempt is counted (probing for accounts is throttled)

    def __init__(self) -> None:
        super().__init__("an account with this email already exists", field="email")


class OwnAccount(Conflict):
    """An admin tried to change their own role or account through the admin API; another
    admin must."""

    title = "Own account"
    code = "own-account"


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _password_work(*, settings: Settings, client_ip: str) -> Iterator[None]:
    """Admission to password hashing (see ``security.password_work``), refused at once
    with 503 when the process is saturated and 429 when this address has its share."""
    admission = ExitStack()
    try:
        admission.enter_context(
            password_work(
                address=client_ip,
                limit=settings.password_work_max_pending,
                per_address=settings.password_work_max_per_address,
            )
        )
    except PasswordWorkRefused as refused:
        raise (PasswordWorkBusy() if refused.everywhere else PasswordWorkThrottled()) from None
    with admission:
        yield


async def register(
    *, session: AsyncSession, settings: Settings, data: UserRegister, client_ip: str
) -> User:
    """Sign-up through the API: throttled per client address and per email (every
    answer counts, "taken" ones too, since each tells whether an account exists),
    counted under advisory locks so parallel sign-ups cannot all read one count."""
    with _password_work(settings=settings, client_ip=client_ip):
        await repository.lock_signups(session, email=data.email, client_ip=client_ip)
        await _refuse_signup_if_throttled(
            session=session, settings=settings, email=data.email, client_ip=client_ip
        )
        existing = await repository.get_user_by_email(session, data.email)
        if existing is not None:
            session.add(
                SignupAttempt(
                    email=data.email, client_ip=client_ip, created=False, user_id=existing.id
                )
            )
            await session.flush()
            raise EmailTaken
        user = await create_account(session=session, data=data)
        with acting_as(user.id):  # the new account is the actor of its own sign-up
            session.add(
                SignupAttempt(email=data.email, client_ip=client_ip, created=True, user_id=user.id)
            )
            await session.flush()
    return user


async def create_account(*, session: AsyncSession, data: UserRegister) -> User:
    """A new account, unthrottled (the API's sign-up throttles before it; the command
    line's first admin does not need to)."""
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


async def _refuse_signup_if_throttled(
    *, session: AsyncSession, settings: Settings, email: str, client_ip: str
) -> None:
    window = timedelta(seconds=settings.signup_window_seconds)
    counts = await repository.count_signups(
        session, email=email, client_ip=client_ip, window=window
    )
    waits = []
    if counts.address >= settings.signup_max_per_address:
        waits.append(_retry_after(counts.address_oldest, window, counts.now))
    if counts.email >= settings.signup_max_per_email:
        waits.append(_retry_after(counts.email_oldest, window, counts.now))
    if waits:
        raise SignupThrottled(max(waits))


def _retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


async def _refuse_if_throttled(
    *, session: AsyncSession, settings: Settings, email: str, client_ip: str, user: User | None
) -> None:
    """Too many failures on the account or from the address: 429. Where the account
    signed in before (a known address), only the failures from that address count
    against the account there, so a stranger's guesses cannot lock the owner out."""
    known = user is not None and await repository.is_known_address(
        session,
        user_id=user.id,
        client_ip=client_ip,
        within=timedelta(days=settings.known_address_days),
    )
    short_window = timedelta(seconds=settings.signin_window_seconds)
    counts = await repository.count_failures(
        session,
        email=email,
        client_ip=client_ip,
        short_window=short_window,
        long_window=LONG_WINDOW,
        known_address=known,
    )
    waits = []
    if counts.account_recent >= settings.signin_max_per_account:
        waits.append(_retry_after(counts.account_recent_oldest, short_window, counts.now))
    if counts.account_hour >= settings.signin_max_per_account_hour:
        waits.append(_retry_after(counts.account_hour_oldest, LONG_WINDOW, counts.now))
    if counts.address_recent >= settings.signin_max_per_address:
        waits.append(_retry_after(counts.address_recent_oldest, short_window, counts.now))
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

    Attempts from one address and on one account are serialised by transaction-scoped
    advisory locks, so parallel guesses are counted one after another instead of all
    reading the same count; the locks are released when the attempt's row is committed.
    A success makes the address known to the account (see ``_refuse_if_throttled``).
    """
    email = email.strip().lower()
    with _password_work(settings=settings, client_ip=client_ip):
        await repository.lock_attempts(session, email=email, client_ip=client_ip)
        user = await repository.get_user_by_email(session, email)
        await _refuse_if_throttled(
            session=session, settings=settings, email=email, client_ip=client_ip, user=user
        )
        check = await verify_password(user.password_hash if user else None, password)
        session.add(
            LoginAttempt(
                email=email,
                client_ip=client_ip,
                succeeded=check.ok,
                user_id=user.id if user else None,
            )
        )
        await repository.forget_attempts(session, email=email, older_than=LONG_WINDOW)
        if not check.ok or user is None:
            await session.flush()
            raise InvalidCredentials
        # A password change (or deletion) committed while the hash was being checked
        # wins: the sign-in that raced it must not mint a session the change revoked.
        if await repository.lock_sessions(session, user.id) != user.password_hash:
            await session.flush()
            raise InvalidCredentials
        with acting_as(user.id):
            await repository.remember_address(session, user_id=user.id, client_ip=client_ip)
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


async def purge_throttle_records(*, session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Sign-in and sign-up attempts older than their throttle windows count for nothing;
    a known address unused for ``SYLLABUS_KNOWN_ADDRESS_DAYS`` is a stranger again."""
    return {
        "auth_login_attempts": await repository.forget_attempts(session, older_than=LONG_WINDOW),
        "auth_signup_attempts": await repository.forget_signups(
            session, older_than=timedelta(seconds=settings.signup_window_seconds)
        ),
        "auth_known_addresses": await repository.forget_known_addresses(
            session, older_than=timedelta(days=settings.known_address_days)
        ),
    }


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


async def change_password(
    *, session: AsyncSession, settings: Settings, user: User, data: PasswordChange, client_ip: str
) -> None:
    """Needs the current password, checked like a sign-in (throttled, and a wrong one
    counts as a failed sign-in of the account from this address); every refresh family
    is revoked afterwards."""
    with _password_work(settings=settings, client_ip=client_ip):
        await repository.lock_attempts(session, email=user.email, client_ip=client_ip)
        await _refuse_if_throttled(
            session=session, settings=settings, email=user.email, client_ip=client_ip, user=user
        )
        if not (await verify_password(user.password_hash, data.current_password)).ok:
            session.add(
                LoginAttempt(
                    email=user.email, client_ip=client_ip, succeeded=False, user_id=user.id
                )
            )
            await session.flush()
            raise WrongPassword("current password is incorrect", field="current_password")
        if data.new_password.strip().lower() == user.email:
            message = "must not be the email address"
            raise ValidationFailed(
                f"new password {message}",
                field="new_password",
                errors=[
                    {
                        "field": "new_password",
                        "in": "body",
                        "message": message,
                        "type": "value_error",
                    }
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
    await account_erased.fire(session, user.id)


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
        user = await create_account(session=session, data=data)
    with acting_as(user.id):
        user.role = "admin"
        await session.flush()
    return user, created
