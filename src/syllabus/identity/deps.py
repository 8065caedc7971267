"""Who is calling: ``CurrentUser`` for any signed-in user, ``require_role`` for roles.

Resolving the user also makes them the actor for audit columns, so every write in the
request records who made it without any route doing so.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from syllabus.config import Settings
from syllabus.db.sql import current_actor
from syllabus.deps import SessionDep, SettingsDep
from syllabus.errors import ValidationFailed
from syllabus.identity import service
from syllabus.identity.models import REVIEWER_ROLES, Role, User
from syllabus.identity.security import AccessClaims, InvalidToken, decode_access_token

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)
BEARER = {"WWW-Authenticate": "Bearer"}
SIGNED_IN_PROBLEMS = (service.SignInRequired, service.TokenRejected, ValidationFailed)
"""What any operation of a domain router can answer (its ``responses=`` default): no or a
bad token, a bad field."""

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if not token:
        raise service.SignInRequired(
            "sign in first: send 'Authorization: Bearer <token>'", headers=BEARER
        )
    try:
        user = await service.authenticate(session=session, settings=settings, token=token)
    except service.TokenRejected as error:
        error.headers = BEARER
        raise
    current_actor.set(user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise service.RoleRequired(f"requires role: {' or '.join(roles)}")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role("admin"))]
ReviewerUser = Annotated[User, Depends(require_role(*REVIEWER_ROLES))]
"""A teacher or an admin: who works the review queues (DECISIONS 3)."""


async def get_optional_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The caller if they sent a token, else ``None``. A *bad* token is still a 401:
    silently treating it as anonymous would hide the client's bug."""
    if not token:
        return None
    return await get_current_user(session, settings, token)


OptionalUser = Annotated[User | None, Depends(get_optional_user)]

# FastAPI lists the bearer scheme under ``security`` whether or not the token is required.
# Routes that take ``OptionalUser``/``OptionalClaims`` pass ``openapi_extra=ANONYMOUS_TOO``:
# the empty requirement ``{}`` is OpenAPI's way of saying "or no token at all", which
# clients, fuzzers and tests/test_access_matrix.py rely on.
ANONYMOUS_TOO: dict[str, object] = {"security": [{}]}


def _claims(token: str, settings: Settings) -> AccessClaims:
    try:
        return decode_access_token(token, secret=settings.jwt_secret.get_secret_value())
    except InvalidToken:
        raise service.TokenRejected("access token is invalid or expired", headers=BEARER) from None


async def get_optional_claims(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims | None:
    """The verified token without a database lookup, for routes that check the user in
    their own query (the outline: one PostgreSQL round trip in all)."""
    return _claims(token, settings) if token else None


HOT_READ: dict[str, object] = {"security": [{oauth2_scheme.scheme_name: []}, {}]}
"""``openapi_extra`` of a hot read that takes no dependency and calls :func:`claims_of`:
what ``OptionalClaims`` with ``ANONYMOUS_TOO`` declares (the bearer token, or none)."""


def claims_of(request: Request) -> AccessClaims | None:
    """``OptionalClaims`` without FastAPI's dependency solving, for the hottest reads
    (outline, lesson, quiz): the same header rule as the bearer scheme (no header or
    another scheme: anonymous), the same 401 for a bad token."""
    authorization = request.headers.get("Authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization or scheme.lower() != "bearer" or not token:
        return None
    settings: Settings = request.app.state.settings
    return _claims(token, settings)


OptionalClaims = Annotated[AccessClaims | None, Depends(get_optional_claims)]


async def get_claims(
    claims: OptionalClaims, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims:
    """A verified token without a database lookup, for a write that checks the user in its
    own statement (the lesson progress PUT: one round trip in all)."""
    if claims is None:
        raise service.SignInRequired(
            "sign in first: send 'Authorization: Bearer <token>'", headers=BEARER
        )
    return claims


CurrentClaims = Annotated[AccessClaims, Depends(get_claims)]
