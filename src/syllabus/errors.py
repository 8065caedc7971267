"""One error family and one renderer: every failure leaves as RFC 9457 problem+json.

Domain code raises an :class:`AppError` subclass that carries its own HTTP status; it
never builds responses. Framework errors (validation, unknown route, method) and
unexpected exceptions are rendered by the same :func:`problem_response`.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


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


class UnprocessableContent(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Unprocessable Content"


class ServiceUnavailable(AppError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Service Unavailable"


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


async def _app_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    fields = ", ".join(sorted({error["field"] for error in errors}))
    return problem_response(
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        title="Validation failed",
        detail=f"Invalid value for: {fields}" if fields else None,
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None
    return problem_response(
        status=exc.status_code,
        detail=detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(status=HTTPStatus.INTERNAL_SERVER_ERROR, instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
