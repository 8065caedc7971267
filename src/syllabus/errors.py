"""One error family and one renderer: every failure leaves as RFC 9457 problem+json.

Domain code raises an :class:`AppError` subclass that carries its own HTTP status; it
never builds responses. Framework errors (validation, unknown route, method) and
unexpected exceptions are rendered by the same :func:`problem_response`.
"""

import inspect
import logging
import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import ConnectionFailure, PyMongoError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from syllabus.db.recovery import retrying
from syllabus.kit.urls import path_as_sent

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


PROBLEM_TYPE_PREFIX = "urn:syllabus:problem:"
"""Every problem's ``type`` is this plus its ``code``: the same URI in every deployment,
never built from the request's host (DECISIONS 6)."""
CODE_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class FieldError(BaseModel):
    """One failing part of a request: which field, where it was sent, and why."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="Dotted path of the field, e.g. `answers[0].answer`.")
    in_: str = Field(alias="in", description="`body`, `query`, `path` or `header`.")
    message: str
    type: str = Field(description="What kind of failure, e.g. `missing`, `json_invalid`.")


class Problem(BaseModel):
    """RFC 9457 problem details. Branch on ``code`` (or ``type``, which is the same
    thing as a URI); the table of codes is docs/errors.md. Extra members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description=f"`{PROBLEM_TYPE_PREFIX}<code>`: the same in every deployment.",
        examples=[f"{PROBLEM_TYPE_PREFIX}already-enrolled"],
    )
    code: str = Field(
        description="Short, stable, kebab-case: what went wrong (docs/errors.md).",
        examples=["already-enrolled"],
    )
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_TYPES: dict[str, type["AppError"]] = {}
"""Every declared problem, by code: the source of docs/errors.md."""


class AppError(Exception):
    """Base of every error the API reports on purpose.

    The classes named after a status (``Conflict``, ``Forbidden``…) are families, not
    errors: what is raised is a subclass that declares a kebab-case ``code``, a ``title``
    and a docstring whose first paragraph says when it happens. Declaring it registers
    it (a code used twice fails at import); ``type`` is derived from the code."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    title: str = "Internal Server Error"
    code: str | None = None
    keeps_writes: bool = False
    """True when the request's writes must be committed although it fails (a failed login
    is recorded, a reused refresh token revokes its family); normally they roll back."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        name = f"{cls.__module__}.{cls.__qualname__}"
        if not CODE_PATTERN.fullmatch(code):
            raise TypeError(f"{name}: code {code!r} is not kebab-case")
        if not cls.__dict__.get("__doc__"):
            raise TypeError(f"{name}: say in a docstring when {code} happens")
        known = PROBLEM_TYPES.get(code)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise TypeError(f"{name}: code {code} is taken by {known.__qualname__}")
        PROBLEM_TYPES[code] = cls

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        if self.code is None:
            raise TypeError(f"{type(self).__name__} is a family: raise a subclass with a code")
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions

    @classmethod
    def type_uri(cls) -> str:
        return f"{PROBLEM_TYPE_PREFIX}{cls.code}"


class BadRequest(AppError):
    status = HTTPStatus.BAD_REQUEST
    title = "Bad Request"


class Unauthorized(AppError):
    status = HTTPStatus.UNAUTHORIZED
    title = "Unauthorized"


class PaymentRequired(AppError):
    status = HTTPStatus.PAYMENT_REQUIRED
    title = "Payment Required"


class Forbidden(AppError):
    status = HTTPStatus.FORBIDDEN
    title = "Forbidden"


class NotFound(AppError):
    """The resource named (in the path, or by ``field``) does not exist, or is hidden
    from you (a draft, another learner's), or no route has this path."""

    status = HTTPStatus.NOT_FOUND
    title = "Not Found"
    code = "not-found"


class MethodNotAllowed(AppError):
    """The path exists but not with this method; ``Allow`` lists the methods it takes."""

    status = HTTPStatus.METHOD_NOT_ALLOWED
    title = "Method Not Allowed"
    code = "method-not-allowed"


class Conflict(AppError):
    status = HTTPStatus.CONFLICT
    title = "Conflict"


class TooManyRequests(AppError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    title = "Too Many Requests"


class UnprocessableContent(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Unprocessable Content"


class ServiceUnavailable(AppError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Service Unavailable"


class ValidationFailed(UnprocessableContent):
    """A field, query parameter or header has a wrong value: ``errors`` names each one
    (field, where it was sent, why)."""

    title = "Validation failed"
    code = "validation-failed"


class MalformedBody(BadRequest):
    """The body is not valid JSON (or not UTF-8, or not readable at all)."""

    title = "Malformed body"
    code = "malformed-body"


class BodyTooDeep(BadRequest):
    """The JSON body nests arrays and objects deeper than ``max_depth``
    (``SYLLABUS_MAX_JSON_DEPTH``)."""

    title = "Body nested too deeply"
    code = "body-too-deep"


class InvalidUrl(BadRequest):
    """The path or query string holds a NUL (U+0000) character."""

    title = "Invalid URL"
    code = "invalid-url"


class CorsRefused(BadRequest):
    """A CORS preflight asked for an origin, method or header this deployment does not
    allow (``SYLLABUS_CORS_ORIGINS``); ``errors`` names what was refused."""

    title = "Cross-origin request refused"
    code = "cors-refused"


class BodyTooLarge(AppError):
    """The body is larger than ``max_bytes`` (``SYLLABUS_MAX_BODY_BYTES``), declared or
    counted as it arrives."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    title = "Content Too Large"
    code = "body-too-large"


class UnsupportedMediaType(AppError):
    """The body is not of the media type the operation reads; ``Accept`` names it."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported Media Type"
    code = "unsupported-media-type"


class HttpError(AppError):
    """A refusal of the HTTP framework not named above (the status says which); none is
    known to happen."""

    title = "HTTP error"
    code = "http-error"

    def __init__(self, detail: str | None, *, status: int, headers: dict[str, str] | None) -> None:
        super().__init__(detail, headers=headers)
        self.status = status
        self.title = HTTPStatus(status).phrase


class StoreUnavailable(ServiceUnavailable):
    """PostgreSQL or MongoDB is not answering (or dropped the connection); nothing was
    written. Retry after ``Retry-After`` seconds. Also ``GET /health/ready`` when a store
    is down (``failing`` names it)."""

    title = "Service Unavailable"
    code = "store-unavailable"


class InternalError(AppError):
    """A bug: the server failed unexpectedly and wrote nothing. The log has the details
    under the response's ``X-Request-ID``."""

    code = "internal-error"


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def problem_schemas() -> dict[str, Any]:
    """``Problem`` and what it references, for the OpenAPI document's components."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "Problem": schema}


_CODE_IN_DESCRIPTION = re.compile(r"`([a-z0-9-]+)`")


def _problem_response(status: int, codes: Iterable[str]) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in sorted(set(codes)))
    return {
        "description": HTTPStatus(status).phrase + (f": {listed}" if listed else ""),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }


def problem_responses(*raised: int | type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries: these errors (or statuses) come back as
    problem+json, the one ``Problem`` component; each status's description lists the
    codes named for it."""
    codes: dict[int, list[str]] = {}
    for item in raised:
        status = item if isinstance(item, int) else item.status
        known = codes.setdefault(int(status), [])
        if not isinstance(item, int) and item.code is not None:
            known.append(item.code)
    return {status: _problem_response(status, found) for status, found in codes.items()}


def add_problems(responses: dict[str, Any], *raised: type[AppError]) -> None:
    """Add these errors to an operation's OpenAPI ``responses``; a status it documents
    already keeps its codes and lists these too."""
    for status, response in problem_responses(*raised).items():
        known = responses.get(str(status))
        if known is None:
            responses[str(status)] = response
        elif PROBLEM_MEDIA_TYPE in known.get("content", {}):
            codes = _CODE_IN_DESCRIPTION.findall(known["description"] + response["description"])
            known["description"] = _problem_response(int(status), codes)["description"]


def problem_table() -> str:
    """The table of docs/errors.md: every declared problem, by status then code, with
    the first paragraph of its docstring as "when"."""
    rows = ["| code | status | title | when | declared in |", "|---|---|---|---|---|"]
    for code, error in sorted(PROBLEM_TYPES.items(), key=lambda item: (item[1].status, item[0])):
        when = " ".join(inspect.cleandoc(error.__doc__ or "").split("\n\n")[0].split())
        when = when.replace("|", "\\|").replace("``", "`")
        status = "varies" if error is HttpError else str(error.status)
        rows.append(f"| `{code}` | {status} | {error.title} | {when} | `{error.__module__}` |")
    return "\n".join(rows) + "\n"


class BodyRefused(StarletteHTTPException):
    """Carries an :class:`AppError` out of a request body that is still streaming in.

    Raised from the ``receive`` of the edge middleware: FastAPI re-raises only HTTP
    exceptions met while it reads a body (any other becomes a bare 400), so the error
    travels as one of those and is rendered like every other :class:`AppError`.
    """

    def __init__(self, error: AppError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


def body_error(
    error: type[AppError],
    message: str,
    *,
    kind: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> AppError:
    """An error about the body as a whole: ``detail`` says "the body is <message>" and
    ``errors`` names ``body``, like a validation error names a field."""
    return error(
        f"the body is {message}",
        headers=headers,
        errors=[{"field": "body", "in": "body", "message": message, "type": kind}],
        **extensions,
    )


def problem_response(error: AppError, *, instance: str | None = None) -> ProblemResponse:
    """The single problem+json shape: type, code, title, status, detail, instance, then
    the error's extensions."""
    body: dict[str, Any] = {
        "type": error.type_uri(),
        "code": error.code,
        "title": error.title,
        "status": error.status,
    }
    if error.detail is not None:
        body["detail"] = error.detail
    if instance is not None:
        body["instance"] = instance
    body.update(error.extensions)
    return ProblemResponse(body, status_code=error.status, headers=error.headers)


def _field_name(loc: Sequence[int | str]) -> str:
    """``("body", "items", 0, "id")`` → ``items[0].id``; the request part is kept apart."""
    name = ""
    for part in loc[1:] if len(loc) > 1 else loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


UNION_TAG_ERRORS = frozenset({"union_tag_invalid", "union_tag_not_found"})
"""A body that is one of several by a tag field: the error is about that field."""


def _location(error: Any) -> Sequence[int | str]:
    loc: Sequence[int | str] = error["loc"]
    if error["type"] in UNION_TAG_ERRORS:
        return (*loc, str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
    return loc


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_name(_location(error)),
            "in": str(error["loc"][0]) if error["loc"] else "body",
            "message": error["msg"],
            "type": error["type"],
        }
        for error in errors
    ]


def _render(request: Request, error: AppError) -> ProblemResponse:
    return problem_response(error, instance=request.url.path)


async def _app_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, AppError)
    return _render(request, exc)


async def _body_refused(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, BodyRefused)
    return _render(request, exc.error)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _body_problem(request: Request, exc: RequestValidationError) -> AppError | None:
    """The body's own problem, which outranks its fields: not JSON at all (400), or
    not of the media type the route reads (415: FastAPI then hands the validator the raw
    bytes, or an empty form, and would report missing fields instead)."""
    for error in exc.errors():
        if error["type"] == "json_invalid":
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            message = f"not valid JSON: {reason} (at character {error['loc'][-1]})"
            return body_error(MalformedBody, message, kind="json_invalid")
    media_type = _media_type(request)
    if isinstance(exc.body, bytes):
        expected: tuple[str, ...] = (JSON_MEDIA_TYPE,)
    elif isinstance(exc.body, FormData) and media_type not in FORM_MEDIA_TYPES:
        expected = FORM_MEDIA_TYPES
    else:
        return None
    sent = f"but {media_type}" if media_type else "(no Content-Type header)"
    return body_error(
        UnsupportedMediaType,
        f"not {' or '.join(expected)} {sent}",
        kind="media_type",
        headers={"Accept": ", ".join(expected)},
    )


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    refused = _body_problem(request, exc)
    if refused is not None:
        return _render(request, refused)
    errors = validation_errors(exc.errors())
    fields = ", ".join(sorted({error["field"] for error in errors}))
    detail = f"Invalid value for: {fields}" if fields else None
    return _render(request, ValidationFailed(detail, errors=errors))


def _unreadable_body(exc: StarletteHTTPException) -> AppError | None:
    """FastAPI's bare 400 for a body it could not even decode (it raises it from the
    decoding error): named like every other body refusal."""
    cause = exc.__cause__
    if exc.status_code != HTTPStatus.BAD_REQUEST or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        message = (
            f"not valid UTF-8: byte 0x{cause.object[cause.start]:02x} at position {cause.start}"
        )
        return body_error(MalformedBody, message, kind="json_invalid")
    return body_error(MalformedBody, "not readable", kind="json_invalid")


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    unreadable = _unreadable_body(exc)
    if unreadable is not None:
        return _render(request, unreadable)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None
    headers = dict(exc.headers) if exc.headers else None
    error: AppError
    if exc.status_code == HTTPStatus.NOT_FOUND:
        error = NotFound(detail, headers=headers)
    elif exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        error = MethodNotAllowed(detail, headers=headers)
    else:
        error = HttpError(detail, status=exc.status_code, headers=headers)
    return _render(request, error)


STORE_RETRY_AFTER_SECONDS = 2
OUTAGES = (
    OSError,  # refused, reset, no socket file: the server is not there
    ConnectionFailure,  # PyMongo, including ServerSelectionTimeoutError
    OperationalError,
    InterfaceError,
    PoolTimeout,  # every pooled connection is busy: PostgreSQL is saturated or stuck
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, …
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,  # "connection is closed"
)
STORE_ERRORS = (
    OSError,
    PyMongoError,
    DBAPIError,
    PoolTimeout,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""Where a store outage can surface; :func:`store_outage` picks the outages out."""


def store_outage(error: BaseException) -> bool:
    """A store is unreachable or dropped the connection (a restart, a failover): the
    request did nothing durable, and the same request later may well succeed. SQLAlchemy
    wraps driver errors, so the chain of causes is searched too."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, OUTAGES):
            return True
        seen = seen.__cause__
    return False


def _outage(request: Request, exc: Exception) -> ProblemResponse:
    """503 with Retry-After: the unit of work has rolled back, and SQLAlchemy has
    discarded the pool's broken connections, so a retry may well succeed."""
    path = path_as_sent(request.scope)
    if retrying():  # a dead pooled connection, met first: the request runs again
        logger.info("dead connection on %s %s: %r", request.method, path, exc)
    else:
        logger.warning("store unavailable on %s %s: %r", request.method, path, exc)
    detail = "a data store is not answering; retry later"
    if request.app.state.settings.env == "dev":
        detail += f" ({type(exc).__name__}: {exc})"
    retry_after = {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}
    return _render(request, StoreUnavailable(detail, headers=retry_after))


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    """A bare 500: what went wrong is in the log, never in the answer (exception text
    can hold SQL, paths or secrets). Only ``dev`` names the exception, for the developer
    at the keyboard; never the traceback. A store outage is a 503 instead."""
    if store_outage(exc):
        return _outage(request, exc)
    logger.exception("unhandled error on %s %s", request.method, path_as_sent(request.scope))
    detail = f"{type(exc).__name__}: {exc}" if request.app.state.settings.env == "dev" else None
    return _render(request, InternalError(detail))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(BodyRefused, _body_refused)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for store_error in STORE_ERRORS:
        # Handled inside the app (not by the outermost 500 handler, which re-raises).
        app.add_exception_handler(store_error, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
