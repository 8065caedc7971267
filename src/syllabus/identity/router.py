"""HTTP for accounts: ``/auth``, ``/users/me`` and ``/admin/users``. Translation only;
the rules are in ``service``."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from syllabus.deps import SessionDep, SettingsDep
from syllabus.errors import NotFound, ValidationFailed, problem_responses
from syllabus.identity import service
from syllabus.identity.deps import SIGNED_IN_PROBLEMS, AdminUser, CurrentUser
from syllabus.identity.export import EXPORT_RESPONSES, export_user_data
from syllabus.identity.models import Role
from syllabus.identity.schemas import (
    AdminUserUpdate,
    PasswordChange,
    RefreshRequest,
    TokenForm,
    TokenPair,
    UserLogin,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from syllabus.kit.pagination import Page, Paging, uuid_key

auth_router = APIRouter(prefix="/auth", tags=["auth"])
PASSWORD_WORK = (service.PasswordWorkThrottled, service.PasswordWorkBusy)
"""Refusals of operations that hash a password (see ``service``)."""
me_router = APIRouter(
    prefix="/users/me", tags=["me"], responses=problem_responses(*SIGNED_IN_PROBLEMS)
)
admin_router = APIRouter(
    prefix="/admin/users",
    tags=["admin"],
    responses=problem_responses(*SIGNED_IN_PROBLEMS, service.RoleRequired),
)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        service.EmailTaken, ValidationFailed, service.SignupThrottled, *PASSWORD_WORK
    ),
    summary="Create an account (throttled per client address and per email)",
)
async def auth_register(
    data: UserRegister, request: Request, session: SessionDep, settings: SettingsDep
) -> UserPublic:
    user = await service.register(
        session=session, settings=settings, data=data, client_ip=_client_ip(request)
    )
    return UserPublic.model_validate(user)


@auth_router.post(
    "/login",
    responses=problem_responses(
        service.InvalidCredentials, ValidationFailed, service.LoginThrottled, *PASSWORD_WORK
    ),
    summary="Sign in with email and password",
)
async def auth_login(
    data: UserLogin, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    return await service.login(
        session=session,
        settings=settings,
        email=data.email,
        password=data.password,
        client_ip=_client_ip(request),
    )


@auth_router.post(
    "/token",
    responses=problem_responses(
        service.InvalidCredentials, ValidationFailed, service.LoginThrottled, *PASSWORD_WORK
    ),
    summary="OAuth2 password flow (the Authorize button in /docs); username is the email",
)
async def auth_token(
    form: Annotated[TokenForm, Form()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    # The form's fields get the same rules as the JSON body (email shape, length caps).
    try:
        data = UserLogin(email=form.username, password=form.password)
    except ValidationError as error:
        renamed = [
            {**item, "loc": ("body", "username" if item["loc"][0] == "email" else item["loc"][0])}
            for item in error.errors()
        ]
        raise RequestValidationError(renamed) from None
    return await service.login(
        session=session,
        settings=settings,
        email=data.email,
        password=data.password,
        client_ip=_client_ip(request),
    )


@auth_router.post(
    "/refresh",
    responses=problem_responses(service.RefreshRejected, ValidationFailed),
    summary="Rotate a refresh token",
)
async def auth_refresh(
    data: RefreshRequest, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    return await service.refresh(
        session=session, settings=settings, refresh_token=data.refresh_token
    )


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(ValidationFailed),
    summary="End the sign-in this refresh token belongs to",
)
async def auth_logout(data: RefreshRequest, session: SessionDep) -> None:
    await service.logout(session=session, refresh_token=data.refresh_token)


@auth_router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(service.SignInRequired, service.TokenRejected),
    summary="End every sign-in of the current user",
)
async def auth_logout_all(user: CurrentUser, session: SessionDep) -> None:
    await service.logout_all(session=session, user=user)


@me_router.get("", summary="The signed-in user")
async def me_get(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@me_router.patch("", summary="Change name or time zone")
async def me_update(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    updated = await service.update_profile(session=session, user=user, data=data)
    return UserPublic.model_validate(updated)


@me_router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(
        *SIGNED_IN_PROBLEMS, service.WrongPassword, service.LoginThrottled, *PASSWORD_WORK
    ),
    summary="Change password (ends every sign-in; a wrong current password counts as a "
    "failed sign-in)",
)
async def me_change_password(
    data: PasswordChange,
    user: CurrentUser,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> None:
    await service.change_password(
        session=session, settings=settings, user=user, data=data, client_ip=_client_ip(request)
    )


@me_router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase my account (learning records stay, pseudonymous)",
)
async def me_erase(user: CurrentUser, session: SessionDep) -> None:
    await service.erase_account(session=session, user=user)


@me_router.get(
    "/export",
    response_model=None,
    responses=EXPORT_RESPONSES,
    summary="Everything stored about me, as one JSON document",
)
async def me_export(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    return await export_user_data(session=session, user_id=user.id)


@admin_router.get("", summary="List users (keyset-paginated)")
async def admin_users_list(
    _admin: AdminUser,
    session: SessionDep,
    paging: Paging,
    role: Role | None = None,
    email: Annotated[str | None, Query(max_length=320, description="Substring, any case.")] = None,
) -> Page[UserPublic]:
    users = await service.list_users(
        session=session,
        after=paging.after(uuid_key),
        limit=paging.limit,
        role=role,
        email_contains=email,
    )
    return paging.page(users, key=lambda user: [str(user.id)]).map(UserPublic.model_validate)


@admin_router.patch(
    "/{user_id}",
    responses=problem_responses(NotFound, service.OwnAccount),
    summary="Change role",
)
async def admin_users_update(
    user_id: uuid.UUID, data: AdminUserUpdate, admin: AdminUser, session: SessionDep
) -> UserPublic:
    user = await service.admin_update_user(session=session, actor=admin, user_id=user_id, data=data)
    return UserPublic.model_validate(user)


@admin_router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(NotFound, service.OwnAccount),
    summary="Deactivate a user (soft delete)",
)
async def admin_users_delete(user_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> None:
    await service.admin_delete_user(session=session, actor=admin, user_id=user_id)
