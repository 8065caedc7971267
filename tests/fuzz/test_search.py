"""``GET /courses?q=`` never reaches PostgreSQL with a query its web-search parser cannot
take: long runs of operators (33 hyphens were a 500, "tsquery stack too small") are a
422 naming ``q``, and everything else is answered. Hypothesis draws queries made of runs
of the parser's operators and separators, the shapes that overflow it."""

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syllabus.catalog.schemas import MAX_SEARCH_LENGTH, MAX_SEARCH_NEGATIONS
from tests.probe import assert_problem

PIECES = ["-", " ", '"', "or", "OR", "|", "&", "!", "(", ")", ":", "*", "<->", "'", "\\", "rest"]
PIECES += ["api", "и", "или", "- ", '-"', '"-', "—", "\t", "\u00a0", ",", "."]

runs = st.tuples(st.sampled_from(PIECES), st.sampled_from([1, 1, 2, 3, 16, 33, 40, 70]))
queries = st.lists(runs, min_size=1, max_size=12).map(
    lambda parts: "".join(piece * times for piece, times in parts)[:MAX_SEARCH_LENGTH]
)


@pytest.mark.parametrize("query", ["-" * 33, "- " * 40 + "rest", '-"' * 40, "-" * 60 + "rest"])
async def test_a_long_run_of_negations_is_a_422_naming_q(
    client: httpx.AsyncClient, loaded: Path, query: str
) -> None:
    body = assert_problem(await client.get("/api/v1/courses", params={"q": query}), 422)
    assert [(e["in"], e["field"], e["type"]) for e in body["errors"]] == [
        ("query", "q", "search_operators")
    ]


async def test_as_many_negations_as_the_parser_takes_are_searched(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    most = "-" * MAX_SEARCH_NEGATIONS + "kubernetes rest"
    response = await client.get("/api/v1/courses", params={"q": most})
    assert response.status_code == 200, response.text


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries)
async def test_any_run_of_operators_is_answered_or_refused_naming_q(
    client: httpx.AsyncClient, loaded: Path, query: str
) -> None:
    response = await client.get("/api/v1/courses", params={"q": query})
    if query.count("-") > MAX_SEARCH_NEGATIONS:
        body = assert_problem(response, 422)
        assert {error["field"] for error in body["errors"]} == {"q"}
    else:
        assert response.status_code == 200, (query, response.text)
