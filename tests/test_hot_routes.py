"""The hottest routes (three reads and the lesson progress PUT) are matched before every
other route (main.build_api_router), which is only safe while no other route of the same
method could match their paths: then the order changes what each request costs and
nothing of what it reaches."""

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

HOT = {
    ("/api/v1/courses/{course_ref}/outline", "GET"),
    ("/api/v1/lessons/{lesson_id}", "GET"),
    ("/api/v1/quizzes/{quiz_id}", "GET"),
    ("/api/v1/progress/lessons/{lesson_id}", "PUT"),
}


def could_match_the_same_path(a: str, b: str) -> bool:
    """Two templates can match one path when they have as many segments and every pair
    is equal or has a parameter on either side; a ``:path`` parameter can match any
    number of segments, so it is counted as overlapping."""
    if ":path}" in a or ":path}" in b:
        return True
    left, right = a.strip("/").split("/"), b.strip("/").split("/")
    if len(left) != len(right):
        return False
    return all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(left, right, strict=True)
    )


def test_the_hot_routes_come_first_and_shadow_no_route(app: FastAPI) -> None:
    routes = [
        (context.path_format, context.methods or set())
        for context in iter_route_contexts(app.routes)
    ]
    api = [(path, methods) for path, methods in routes if path and path.startswith("/api/v1")]
    first = {(path, method) for path, methods in api[: len(HOT)] for method in methods}
    assert first == HOT  # first, in the order matched
    for hot, method in HOT:
        for path, methods in api[len(HOT) :]:
            if method not in methods:
                continue
            assert not could_match_the_same_path(hot, path), (hot, path)
    others = [path for path, _ in routes if path and not path.startswith("/api/v1")]
    assert others  # health, docs: matched before the API, and outside its prefix


def test_the_overlap_rule_sees_overlaps() -> None:
    assert could_match_the_same_path("/a/{x}/outline", "/a/{y}/{z}")
    assert could_match_the_same_path("/a/{x}", "/{p:path}")
    assert not could_match_the_same_path("/a/{x}/outline", "/a/{x}")
    assert not could_match_the_same_path("/lessons/{x}", "/quizzes/{x}")
