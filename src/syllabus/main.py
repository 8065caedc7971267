"""The application factory. Routers, the error renderer and the store lifecycle meet here."""

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp

from syllabus import __version__, apidocs
from syllabus.access.router import router as access_router

# Modules that register sections of ``GET /users/me/export`` (see identity/export.py).
from syllabus.ai import export as ai_export
from syllabus.ai.provider import ModelProvider
from syllabus.ai.router import router as ai_router
from syllabus.assessment import export as _assessment_export  # noqa: F401
from syllabus.assessment import hooks as assessment_hooks
from syllabus.assessment.router import router as assessment_router
from syllabus.catalog.router import router as catalog_router
from syllabus.commerce import erasure as commerce_erasure
from syllabus.commerce import export as _commerce_export  # noqa: F401
from syllabus.commerce import plans as commerce_plans
from syllabus.commerce.router import router as commerce_router
from syllabus.competencies import export as competencies_export
from syllabus.competencies import service as competencies
from syllabus.competencies.router import router as competencies_router
from syllabus.config import ConfigError, Settings, load_settings, to_libpq_url
from syllabus.content import hooks as content_hooks
from syllabus.content import service as content_service
from syllabus.content.documents import DOCUMENT_MODELS, answer_key_schemas
from syllabus.content.router import hot_router as content_hot_router
from syllabus.content.router import router as content_router
from syllabus.content.sources import owned_tables
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.recovery import watch
from syllabus.db.sandbox import Sandbox
from syllabus.db.sql import create_engine, create_sessionmaker
from syllabus.edge import Edge
from syllabus.errors import (
    AppError,
    BodyTooDeep,
    BodyTooLarge,
    CorsRefused,
    InvalidUrl,
    MalformedBody,
    StoreUnavailable,
    UnsupportedMediaType,
    add_problems,
    install_error_handlers,
    problem_response,
    problem_schemas,
)
from syllabus.exams import export as _exams_export  # noqa: F401
from syllabus.exams import hooks as exams_hooks
from syllabus.exams.router import router as exams_router
from syllabus.exams.sweeper import sweep_forever
from syllabus.health.router import router as health_router
from syllabus.homework import export as homework_export
from syllabus.homework.router import router as homework_router
from syllabus.identity import router as identity_router
from syllabus.identity.export import export_schemas
from syllabus.identity.hooks import account_erased
from syllabus.kit.dispatch import RouteIndex
from syllabus.kit.openapi import declare_headers, name_schemas_by_title
from syllabus.learning import export as _learning_export  # noqa: F401
from syllabus.learning.router import hot_router as learning_hot_router
from syllabus.learning.router import router as learning_router
from syllabus.observability.metrics import Metrics
from syllabus.observability.requests import route_templates
from syllabus.observability.router import router as metrics_router
from syllabus.preferences import export as preferences_export
from syllabus.preferences.router import router as preferences_router
from syllabus.progress import export as _progress_export  # noqa: F401
from syllabus.progress import service as progress
from syllabus.progress.router import router as progress_router
from syllabus.studyplans import export as _studyplans_export  # noqa: F401
from syllabus.studyplans.router import router as studyplans_router

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

# What browsers may send and read cross-origin. No credentials: the API authenticates
# with bearer tokens, never cookies.
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = ["ETag", "Link", "Retry-After", "WWW-Authenticate", "X-Request-ID"]
CORS_MAX_AGE_SECONDS = 600

UPLOAD_PATH = re.compile(rf"^{API_PREFIX}/practices/[^/]+/submissions$")
"""The one route that takes files (homework submissions, multipart)."""


def upload_limit(settings: Settings) -> int:
    """The largest body of an upload: every file at its largest, plus the ordinary
    limit for the form's other fields and the multipart framing."""
    return settings.submission_max_files * settings.submission_max_file_bytes + (
        settings.max_body_bytes
    )


# What a refused preflight names, by Starlette's word for it.
CORS_REQUEST_PARTS = {
    "origin": "Origin",
    "method": "Access-Control-Request-Method",
    "headers": "Access-Control-Request-Headers",
    "private-network": "Access-Control-Request-Private-Network",
}


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as problem+json naming what
    was refused (Starlette writes a plain-text 400), like every other 400."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != HTTPStatus.BAD_REQUEST:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
        names = [CORS_REQUEST_PARTS.get(part, part) for part in refused]
        keep = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        refusal = CorsRefused(
            f"cross-origin request not allowed: {', '.join(names)}",
            headers=keep,
            errors=[
                {"field": name, "in": "header", "message": "not allowed", "type": "cors"}
                for name in names
            ],
        )
        return problem_response(refusal)


class Syllabus(FastAPI):
    """FastAPI with one pure-ASGI layer outside everything, Starlette's
    ``ServerErrorMiddleware`` included (``add_middleware`` can only add layers inside
    it): :class:`~syllabus.edge.Edge`, which gives every answer, the 500s that middleware
    writes too, a request id and the security headers, logs and counts it with
    everything below it timed, checks the body as it streams in, and runs a request once
    more when it met a dead pooled PostgreSQL connection before any of its statements
    succeeded (outside Starlette's error handling, so the 503 rendered for that
    connection is held back). Inside, Starlette's and FastAPI's layers as usual (CORS
    when configured), and the router selects routes through
    :class:`~syllabus.kit.dispatch.RouteIndex`."""

    def build_middleware_stack(self) -> ASGIApp:
        self.router.middleware_stack = RouteIndex(self.router)
        metrics: Metrics | None = self.state.metrics
        return Edge(
            super().build_middleware_stack(),
            settings=self.state.settings,
            docs_paths=apidocs.PAGES,
            upload_paths=[(UPLOAD_PATH, upload_limit(self.state.settings))],
            metrics=metrics.http if metrics is not None else None,
            templates=route_templates(self.routes),
        )

    def openapi(self) -> dict[str, Any]:
        """The generated schema, plus the refusals the edge and the error handlers give:
        on every operation that reads a body, malformed or too deep (400), too large
        (413), the wrong media type (415); on every other operation with parameters, a
        NUL character in the path or query (400); on every API operation 503 with
        Retry-After, for a store that is out (see :func:`~syllabus.errors.store_outage`).
        Then the rules of :mod:`syllabus.kit.openapi`: schemas named, headers declared."""
        if self.openapi_schema is not None:
            return self.openapi_schema
        schema = super().openapi()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem_schemas())
        components.update(export_schemas())
        components.update(answer_key_schemas())
        body_refusals = (MalformedBody, BodyTooDeep, BodyTooLarge, UnsupportedMediaType)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                raised: list[type[AppError]] = []
                if "requestBody" in operation:
                    raised.extend(body_refusals)
                if operation.get("parameters"):
                    raised.append(InvalidUrl)
                if path.startswith(API_PREFIX):  # every API route uses a store
                    raised.append(StoreUnavailable)
                add_problems(operation["responses"], *raised)
        self.openapi_schema = name_schemas_by_title(schema)
        declare_headers(self.openapi_schema)
        return self.openapi_schema


def operation_id(route: APIRoute) -> str:
    """The OpenAPI operation id, and the name generated clients give the call: the
    endpoint function's name, which is ``<resource>_<verb>`` (``courses_list``,
    ``attempts_submit``, ``me_export``). Short and stable: it changes only when the
    function is renamed; tests/test_openapi.py checks every id is unique and short."""
    return route.name


def build_api_router() -> APIRouter:
    """Every public API route (:func:`create_app` includes them under ``/api/v1``).
    Domains add their routers here."""
    router = APIRouter()
    # The hottest reads first: routes are tried in order (kit/dispatch.py narrows them to
    # those of the request's first path segments and method first). Safe because no
    # other route matches their paths (tests/test_hot_routes.py).
    router.include_router(learning_hot_router)
    router.include_router(content_hot_router)
    router.include_router(identity_router.auth_router)
    router.include_router(identity_router.me_router)
    router.include_router(identity_router.admin_router)
    router.include_router(catalog_router)
    router.include_router(content_router)
    router.include_router(learning_router)
    router.include_router(assessment_router)
    router.include_router(progress_router)
    router.include_router(preferences_router)
    router.include_router(ai_router)
    router.include_router(exams_router)
    router.include_router(access_router)
    router.include_router(commerce_router)
    router.include_router(competencies_router)
    router.include_router(homework_router)
    router.include_router(studyplans_router)
    return router


def wire() -> None:
    """Register every higher layer's reaction on the hooks lower layers fire (see
    kit/hooks.py): once per process, for the API and the CLI alike; idempotent."""
    content_hooks.achievements_loaded.register(progress.apply_achievements)
    owned_tables.register(progress.ACHIEVEMENTS)
    owned_tables.keep_while("category", commerce_plans.names_category)
    account_erased.register(ai_export.erase)
    account_erased.register(competencies_export.erase)
    account_erased.register(preferences_export.erase)
    account_erased.register(homework_export.erase)
    account_erased.register(commerce_erasure.erase)
    content_hooks.competencies_loaded.register(competencies.apply_competencies)
    owned_tables.register(competencies.COMPETENCIES)
    assessment_hooks.items_graded.register(competencies.record_graded)
    assessment_hooks.items_regraded.register(competencies.record_regraded)
    exams_hooks.mastery_wanted.register(competencies.mastery_into)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open one SQL engine and one Mongo client for the process; close both on the way out."""
    settings: Settings = app.state.settings
    if settings.mongo_url is None:
        raise ConfigError("SYLLABUS_MONGO_URL: not set (use `syllabus dev` for embedded stores)")
    engine = create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.pg_pool_size,
        max_overflow=settings.pg_max_overflow,
    )
    watch(engine)  # a pooled connection found dead: see db.recovery.UnitOfWork
    client = create_client(settings.mongo_url)
    try:
        database = client[settings.mongo_db]
        await init_documents(database, DOCUMENT_MODELS)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.state.read_sessionmaker = create_sessionmaker(app.state.read_engine)
        app.state.mongo_client = client
        app.state.mongo_database = database
        app.state.ai_provider = provider = ModelProvider(settings)
        app.state.sql_sandbox = sandbox = Sandbox(
            reader_url=settings.sandbox_reader_url,
            builder_url=to_libpq_url(settings.sqlalchemy_url),
            timeout_ms=settings.sql_check_timeout_ms,
            max_rows=settings.sql_check_max_rows,
        )
        for cache in content_service.CACHES:
            cache.resize(settings.content_cache_entries)
        sweeper = None
        if settings.exam_sweep_seconds:
            sweeper = asyncio.create_task(
                sweep_forever(app.state.sessionmaker, every=settings.exam_sweep_seconds)
            )
        # What the process built to start lives as long as it does: freeze it, so a full
        # collection scans only what requests create (it was a 136 ms pause over the
        # app's objects, the outline's p99 tail under load; bench/RESULTS.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await provider.close()
            await sandbox.close()
    finally:
        await client.close()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    wire()
    app = Syllabus(
        title="Syllabus",
        version=__version__,
        summary="Content and progress API for online-learning platforms.",
        lifespan=lifespan,
        docs_url=None,  # served by apidocs, offline
        openapi_url="/openapi.json",
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.metrics = None
    if settings.metrics_enabled:
        app.state.metrics = Metrics.create(engine=lambda: getattr(app.state, "engine", None))
        app.include_router(metrics_router)
    install_error_handlers(app)
    apidocs.install_docs(app)
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE_SECONDS,
        )
    app.include_router(health_router)
    # The prefix given here, not as the router's own: FastAPI (0.163) checks an include
    # without a prefix for empty paths by building every route's effective context, and
    # keeps them on the included router's branches, which serve nothing (the app's own
    # branches are built for routing): about 2 MiB of each worker (docs/operations.md,
    # "Memory and garbage collection"). The paths are the same either way.
    app.include_router(build_api_router(), prefix=API_PREFIX)
    return app
