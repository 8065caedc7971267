"""Routes with a fast path: the common case of a hot write answered from the request
alone, every other request by FastAPI exactly as the route declares it.

FastAPI's handler solves the declared parameters and dependencies on every request
(token, connection, headers, body, then the response model): for the lesson progress
PUT that was about a fifth of the worker under wrk, more than its one SQL statement
(bench/RESULTS.md). A fast path skips all of it for the requests that need none of it,
and hands every other request, before doing anything, to the handler FastAPI built from
the declared signature. So the OpenAPI operation is the declared one, unchanged, and
every refusal (401, 404, the 422s naming the field, 400/415 for the body) stays the
one FastAPI renders: an invalid request simply is not the fast path's to answer.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

FastPath = Callable[[Request], Awaitable[Response | None]]
"""Answers the request, or returns ``None`` (having read at most its headers and body,
written nothing) to hand it to the route's declared handler."""

_FAST_PATHS: dict[Callable[..., Any], FastPath] = {}

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def fast_path(fast: FastPath) -> Callable[[Endpoint], Endpoint]:
    """Give an endpoint a fast path (under the route decorator of a router whose
    ``route_class`` is :class:`FastPathRoute`)."""

    def register(endpoint: Endpoint) -> Endpoint:
        _FAST_PATHS[endpoint] = fast
        return endpoint

    return register


async def body_or_none(request: Request) -> bytes | None:
    """The request body for a fast path, or ``None`` where FastAPI's handler must answer:
    a body that could not be read (it reads again and renders the 400). The edge's
    refusals of a body (too large, too deep) are raised, as FastAPI raises them."""
    try:
        return await request.body()
    except HTTPException:
        raise
    except Exception:  # handed to the declared handler, which reports it
        return None


class FastPathRoute(APIRoute):
    """An ``APIRoute`` that offers each request to its endpoint's fast path first (see
    :func:`fast_path`); a route without one is a plain ``APIRoute``. The fast path gets
    the same ``Request`` the declared handler would, so a body it read is read again from
    Starlette's cache, and its exceptions reach the app's error handlers alike."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()
        fast = _FAST_PATHS.get(self.endpoint)
        if fast is None:
            return declared

        async def fast_first(request: Request) -> Response:
            response = await fast(request)
            return response if response is not None else await declared(request)

        return fast_first
