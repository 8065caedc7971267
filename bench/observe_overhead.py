"""The per-request cost of the app's one outer layer (``syllabus.edge.Edge``: request
id, metrics and access log, body checks, security headers, stale-connection retry), in
process, without a server or a socket: the same ASGI call to a trivial Starlette route,
through the layer and without it.

    python -m bench.observe_overhead

Variants are interleaved round after round and each keeps its best round, so a busy
machine skews them alike. Not part of the suite (bench/suite.py); docs/operations.md
quotes its figures.
"""

import asyncio
import io
import logging
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Scope

from syllabus.config import Settings
from syllabus.edge import Edge
from syllabus.observability.logs import JsonFormatter, RequestIdFilter
from syllabus.observability.metrics import HttpMetrics, Metrics
from syllabus.observability.requests import access_log, route_templates

CALLS = 5000
ROUNDS = 15
HEADERS = [(b"host", b"bench"), (b"accept", b"*/*"), (b"user-agent", b"bench")]
WITH_ID = [*HEADERS, (b"x-request-id", b"lb-7f3c9a2e5b1d")]


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hi")


def scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/courses/course:x",
        "raw_path": b"/courses/course:x",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    return None


async def best_round(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> float:
    started = time.perf_counter()
    for _ in range(CALLS):
        await app(scope(headers), receive, send)
    return (time.perf_counter() - started) / CALLS * 1e6


async def main() -> None:
    bare = Starlette(routes=[Route("/courses/{ref}", hello)])
    templates = route_templates(bare.routes)
    metrics = Metrics.create(engine=lambda: None)
    settings = Settings(_env_file=None, env="dev")

    def edge(metrics: HttpMetrics | None) -> ASGIApp:
        return Edge(bare, settings=settings, docs_paths=(), metrics=metrics, templates=templates)

    observed = edge(metrics.http)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access_log.addHandler(handler)
    access_log.propagate = False
    variants: dict[str, tuple[ASGIApp, list[tuple[bytes, bytes]], int]] = {
        "bare Starlette route": (bare, HEADERS, logging.WARNING),
        "+ the layer, no metrics, no access log": (edge(None), HEADERS, logging.WARNING),
        "+ metrics": (observed, HEADERS, logging.WARNING),
        "+ metrics, caller's X-Request-ID": (observed, WITH_ID, logging.WARNING),
        "+ metrics + JSON access log": (observed, HEADERS, logging.INFO),
    }
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(ROUNDS):
        for name, (app, headers, level) in variants.items():
            access_log.setLevel(level)
            best[name] = min(best[name], await best_round(app, headers))
    base = best["bare Starlette route"]
    for name, micros in best.items():
        print(f"{name:42s} {micros:6.1f} µs/request  (+{micros - base:.1f})")


if __name__ == "__main__":
    asyncio.run(main())
