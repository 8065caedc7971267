"""Catalog search, ``GET /api/v1/courses?q=``, at the dataset's catalog size (10,000
courses): the service searching (A, a rotating single-word query that matches about 1 %
of the courses) against the same service listing the first page with no query (B, the
catalog's cheapest list). One uvicorn worker. Reported: p99 of both, their ratio, and
the PostgreSQL plan of the search statement (``EXPLAIN (ANALYZE, BUFFERS)``), checked
for the full-text GIN index."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from bench.dataset import TOPICS, Dataset
from bench.harness import Load, Requests, Servers, alternate, client
from syllabus.catalog.repository import CourseFilters, CourseOrder, list_courses
from syllabus.config import to_asyncpg_url
from syllabus.db.sql import create_engine, create_sessionmaker

INDEX = "ix_courses_search"


def _index_names(plan: Any) -> list[str]:
    """Every index the plan touches, depth first."""
    names = [plan["Index Name"]] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        names += _index_names(child)
    return names


async def query_plan(postgres_url: str, term: str) -> dict[str, Any]:
    """The statement the repository sends for ``?q=term``, explained on the same server."""
    engine = create_engine(to_asyncpg_url(postgres_url), pool_size=1, max_overflow=0)
    sent: list[tuple[str, Any]] = []

    def record(_c: Connection, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await list_courses(
                session,
                filters=CourseFilters(published_only=True, query=term),
                order=CourseOrder(key="relevance", descending=True),
                limit=20,
                after=None,
            )
            statement, parameters = sent[-1]
            explained = await session.connection()
            result = await explained.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            )
            plan = result.scalar_one()
    finally:
        await engine.dispose()
    root = plan[0] if isinstance(plan, list) else plan
    indexes = _index_names(root["Plan"])
    return {
        "term": term,
        "rows_returned": len(rows),
        "execution_ms": root["Execution Time"],
        "planning_ms": root["Planning Time"],
        "indexes_used": sorted(set(indexes)),
        "search_index_used": INDEX in indexes,
        "statement": statement,
        "plan": root["Plan"],
    }


async def search(data: Dataset, load: Load, servers: Servers) -> dict[str, Any]:
    terms = TOPICS[:50]
    service_requests: Requests = [(f"/api/v1/courses?q={term}", {}) for term in terms]
    baseline_requests: Requests = [("/api/v1/courses", {})]
    async with client(servers.service.url, load) as http:
        found = (await http.get(service_requests[0][0])).json()
        assert found["items"], found
        measured = await alternate((http, service_requests), (http, baseline_requests), load=load)
    plan = await query_plan(data.postgres_url, terms[0])
    return {**measured, "catalog_courses": data.timings["rows_courses"], "query_plan": plan}
