"""Prometheus metrics of one app instance: HTTP requests by route template, unhandled
exceptions, requests in flight, the PostgreSQL pool (read at scrape time) and the
process. One registry per app, not the library's global one, so several apps in one
process (the tests) never share or collide."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

# 5 ms … 10 s: the outline answers in milliseconds, readiness gives up after 2 s.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_Children = tuple["Counter", "Histogram"]

# No ``*_created`` series beside every counter and histogram: they double the series
# and the exposition, and Prometheus' rate() does not need them. Process-wide setting.
disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass
class HttpMetrics:
    """What the app's outer layer records per request (see
    :func:`~syllabus.observability.requests.request_finished`).

    The labelled children are cached by (method, route, status): ``labels()`` costs a
    lock and a tuple per call, the dict lookup does not. The keys are bounded (routes by
    known methods by statuses), so the cache is too."""

    registry: CollectorRegistry
    requests: Counter = field(init=False)
    duration: Histogram = field(init=False)
    in_flight: Gauge = field(init=False)
    exceptions: Counter = field(init=False)
    _children: dict[tuple[str, str, int], _Children] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its answer.",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "HTTP requests being served by this process now.",
            registry=self.registry,
        )
        self.exceptions = Counter(
            "http_unhandled_exceptions",
            "Exceptions no handler expected (answered 500), by route and exception class.",
            ["method", "route", "exception"],
            registry=self.registry,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def unhandled(self, *, method: str, route: str, error: BaseException) -> None:
        self.exceptions.labels(method, route, type(error).__name__).inc()


class PoolCollector(Collector):
    """The SQLAlchemy pool's counters, read when Prometheus scrapes (nothing per
    request). Nothing is reported before the app's lifespan has opened the engine."""

    def __init__(self, engine: Callable[[], AsyncEngine | None]) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self.engine()
        pool = engine.pool if engine is not None else None
        if not isinstance(pool, QueuePool):
            return
        opened_beyond_size = pool.overflow()  # negative while fewer than `size` are open
        values = {
            "size": ("Connections the pool keeps (SYLLABUS_PG_POOL_SIZE).", pool.size()),
            "max_overflow": (
                "Connections allowed above the size (SYLLABUS_PG_MAX_OVERFLOW).",
                pool._max_overflow,  # no public accessor
            ),
            "checked_out": ("Connections lent to requests now.", pool.checkedout()),
            "checked_in": ("Open connections idle in the pool now.", pool.checkedin()),
            "overflow": ("Connections open above the size now.", max(opened_beyond_size, 0)),
        }
        for name, (documentation, value) in values.items():
            yield GaugeMetricFamily(f"syllabus_db_pool_{name}", documentation, value=value)


@dataclass
class Metrics:
    """One app's registry, with its HTTP metrics, pool and process collectors."""

    registry: CollectorRegistry
    http: HttpMetrics

    @classmethod
    def create(cls, *, engine: Callable[[], AsyncEngine | None]) -> "Metrics":
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        registry.register(PoolCollector(engine))
        return cls(registry=registry, http=HttpMetrics(registry))
