"""What the API accepts and returns about accounts. A public user has no field that could
hold a password hash or a token: the shapes below are the whole contract."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from syllabus.identity.models import Role
from syllabus.kit.schemas import WHITE_SPACE, InputSchema, OutputSchema

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Email = Annotated[EmailStr, BeforeValidator(_strip), AfterValidator(str.lower)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
# The pattern documents in OpenAPI what stripping (Unicode white space) then min_length=1
# enforce: not blank.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=f"[^{WHITE_SPACE}]"
    ),
    Field(examples=["Ada Lovelace"]),
]
# Which names exist is PostgreSQL's answer, not Python's (the streak and activity-day rules
# convert in SQL): the service checks the name against pg_timezone_names.
TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(
        description="An IANA time zone name the database knows, such as Europe/Berlin.",
        examples=["Europe/Berlin"],
    ),
]


class UserRegister(InputSchema):
    email: Email
    password: Password
    name: Name

    @field_validator("password")
    @classmethod
    def _not_the_email(cls, value: str, info: ValidationInfo) -> str:
        email = info.data.get("email")
        if email is not None and value.strip().lower() == email:
            raise ValueError("must not be the email address")
        return value


class UserLogin(InputSchema):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class TokenForm(BaseModel):
    """The OAuth2 password grant (RFC 6749 4.3) as a form: ``username`` is the email. The
    fields an OAuth2 client may add are taken and ignored; the email and password then
    get :class:`UserLogin`'s rules."""

    grant_type: Annotated[str | None, Field(pattern="^password$")] = None
    username: str
    password: str
    scope: str = ""
    client_id: str | None = None
    client_secret: str | None = None


class RefreshRequest(InputSchema):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(OutputSchema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")


class UserPublic(OutputSchema):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    email_verified: bool
    time_zone: str
    created_at: datetime


class UserUpdate(InputSchema):
    name: Name | None = None
    time_zone: TimeZone | None = None


class PasswordChange(InputSchema):
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
    new_password: Password


class AdminUserUpdate(InputSchema):
    role: Role | None = None
    email_verified: bool | None = None
