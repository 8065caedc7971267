"""One error family and one renderer: every failure leaves as RFC 9457 problem+json.

Domain code raises an :class:`AppError` subclass that carries its own HTTP status; it
never builds responses. Framework errors (validation, unknown route, method) and
unexpected exceptions are rendered by the same :func:`problem_response`.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
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


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class Problem(BaseModel):
    """RFC 9457 problem details, as documented in OpenAPI. Extra members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries saying these statuses come back as problem+json."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
        }
        for status in statuses
    }


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    title: str = "Internal Server Error"
    keeps_writes: bool = False
    """True when the request's writes must be committed although it fails (a failed login
    is recorded, a reused refresh token revokes its family); normally they roll back."""

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


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
    status = HTTPStatus.NOT_FOUND
    title = "Not Found"


class Conflict(AppError):
    status = HTTPStatus.CONFLICT
    title = "Conflict"


class TooManyRequests(AppError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    title = "Too Many Requests"


class ContentTooLarge(AppError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    title = "Content Too Large"


class UnsupportedMediaType(AppError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported Media Type"


class UnprocessableContent(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Unprocessable Content"


class ServiceUnavailable(AppError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Service Unavailable"


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


def problem_response(
    *,
    status: int,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """Build the single problem+json shape: type, title, status, detail, instance + extras."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_name(loc: Sequence[int | str]) -> str:
    """``("body", "items", 0, "id")`` → ``items[0].id``; the request part is kept apart."""
    name = ""
    for part in loc[1:] if len(loc) > 1 else loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_name(error["loc"]),
            "in": str(error["loc"][0]) if error["loc"] else "body",
            "message": error["msg"],
            "type": error["type"],
        }
        for error in errors
    ]


def _render(request: Request, error: AppError) -> ProblemResponse:
    return problem_response(
        status=error.status,
        title=error.title,
        detail=error.detail,
        instance=request.url.path,
        headers=error.headers,
        **error.extensions,
    )


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
            return body_error(BadRequest, message, kind="json_invalid")
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
    return problem_response(
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        title="Validation failed",
        detail=f"Invalid value for: {fields}" if fields else None,
        instance=request.url.path,
        errors=errors,
    )


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
        return body_error(BadRequest, message, kind="json_invalid")
    return body_error(BadRequest, "not readable", kind="json_invalid")


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    unreadable = _unreadable_body(exc)
    if unreadable is not None:
        return _render(request, unreadable)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None
    return problem_response(
        status=exc.status_code,
        detail=detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


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
    return problem_response(
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        detail=detail,
        instance=request.url.path,
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    """A bare 500: what went wrong is in the log, never in the answer (exception text
    can hold SQL, paths or secrets). Only ``dev`` names the exception, for the developer
    at the keyboard; never the traceback. A store outage is a 503 instead."""
    if store_outage(exc):
        return _outage(request, exc)
    logger.exception("unhandled error on %s %s", request.method, path_as_sent(request.scope))
    detail = f"{type(exc).__name__}: {exc}" if request.app.state.settings.env == "dev" else None
    return problem_response(
        status=HTTPStatus.INTERNAL_SERVER_ERROR, detail=detail, instance=request.url.path
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(BodyRefused, _body_refused)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for store_error in STORE_ERRORS:
        # Handled inside the app (not by the outermost 500 handler, which re-raises).
        app.add_exception_handler(store_error, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
