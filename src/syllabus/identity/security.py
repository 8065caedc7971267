"""Passwords, access tokens and refresh tokens: the cryptography lives here only.

- Passwords: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), hashed in a worker
  thread so a burst of logins never blocks the event loop.
- Access tokens: short-lived JWTs signed with HS256, verified with that algorithm pinned.
- Refresh tokens: 256 random bits, opaque to clients; only their SHA-256 is stored.
"""

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import jwt

if TYPE_CHECKING:
    from argon2 import PasswordHasher

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "syllabus"
REFRESH_TOKEN_BYTES = 32
HASHING_NICENESS = 10
T = TypeVar("T")


@cache
def password_hasher() -> "PasswordHasher":
    """argon2id at the parameters the module's docstring gives. ``argon2`` (and its cffi
    binding) is imported here, at the first password operation, not with this module:
    every API worker reads tokens, few of them hash a password (docs/operations.md,
    "Memory and garbage collection")."""
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )


@cache
def _dummy_hash() -> str:
    """A real hash of a random password: unknown emails cost as much as wrong passwords."""
    return password_hasher().hash(secrets.token_urlsafe(16))


# argon2id is CPU-bound by design. One dedicated thread does all of it, so a burst of
# sign-ins can take at most one core and the event loop (and PostgreSQL) keep the rest;
# sign-ins queue instead of starving every other request. See bench/login_burst.py.
def _lower_priority() -> None:
    """Linux schedules threads individually: the hashing thread runs only on CPU time that
    the event loop and the database leave idle (SCHED_IDLE), else it is niced."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_HASHING = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="argon2", initializer=_lower_priority
)


class PasswordWorkRefused(Exception):
    """Too much password work is in progress: everywhere (``everywhere=True``), or from
    this client address."""

    def __init__(self, *, everywhere: bool) -> None:
        super().__init__("password work saturated" if everywhere else "address saturated")
        self.everywhere = everywhere


_in_progress: Counter[str] = Counter()


@contextlib.contextmanager
def password_work(*, address: str, limit: int, per_address: int) -> Iterator[None]:
    """Admission to the hashing thread: at most ``limit`` sign-ups, sign-ins and password
    changes in progress in this process, ``per_address`` of them from one client address.
    Beyond that the caller is refused at once (:class:`PasswordWorkRefused`) instead of
    queueing: a flood then holds a few places in the queue (and a few pooled database
    connections), not all of them, and other users' requests keep their latency. The
    event loop is one thread, so counting needs no lock."""
    if _in_progress[address] >= per_address:
        raise PasswordWorkRefused(everywhere=False)
    if _in_progress.total() >= limit:
        raise PasswordWorkRefused(everywhere=True)
    _in_progress[address] += 1
    try:
        yield
    finally:
        _in_progress[address] -= 1
        if not _in_progress[address]:
            del _in_progress[address]


def password_work_in_progress() -> int:
    """How many password operations this process has admitted and not finished."""
    return _in_progress.total()


async def _off_loop(function: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, function, *args)


def _hash(password: str) -> str:
    return password_hasher().hash(password)


async def hash_password(password: str) -> str:
    return await _off_loop(_hash, password)


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    needs_rehash: bool = False


def _verify(password_hash: str | None, password: str) -> PasswordCheck:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = password_hasher()
    if password_hash is None:
        # No password (OAuth-only account, or unknown email): spend the same time anyway.
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(), password)
        return PasswordCheck(ok=False)
    try:
        hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    return PasswordCheck(ok=True, needs_rehash=hasher.check_needs_rehash(password_hash))


async def verify_password(password_hash: str | None, password: str) -> PasswordCheck:
    """Check a password off the event loop; ``None`` means "no such account"."""
    return await _off_loop(_verify, password_hash, password)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    jti: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, expired or uses another algorithm."""


def create_access_token(*, user_id: uuid.UUID, role: str, secret: str, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": JWT_ISSUER,
        "sub": str(user_id),
        "role": role,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


VERIFIED_TOKENS = 2048
"""Access tokens whose signature this process verified, kept (an LRU) so a client's next
request with the same token costs a dict lookup and an expiry check instead of a new
HMAC and claims validation (7 % of a hot read's profile under wrk, bench/RESULTS.md)."""
_verified: OrderedDict[bytes, AccessClaims] = OrderedDict()


def _verified_key(token: str, secret: str) -> bytes:
    """A 16-byte digest standing for the (token, secret) pair: keyed by the ~300-character
    tokens themselves, a full cache held 1.9 MiB; by their digests, 1.0 MiB."""
    return hashlib.blake2b(f"{len(secret)}:{secret}{token}".encode(), digest_size=16).digest()


def decode_access_token(token: str, *, secret: str) -> AccessClaims:
    """The token's claims, verified (signature, issuer, required claims) once per process
    and token; expiry is checked on every call."""
    key = _verified_key(token, secret)
    claims = _verified.get(key)
    if claims is None:
        claims = _decode(token, secret=secret)
        _verified[key] = claims
        if len(_verified) > VERIFIED_TOKENS:
            _verified.popitem(last=False)
    else:
        _verified.move_to_end(key)
    if claims.expires_at.timestamp() <= time.time():  # as PyJWT: valid while now < exp
        _verified.pop(key, None)
        raise InvalidToken("Signature has expired")
    return claims


def _decode(token: str, *, secret: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
        )
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            role=str(claims.get("role", "")),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as error:
        raise InvalidToken(str(error)) from None


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque token and the SHA-256 hex digest that is all the database keeps."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
