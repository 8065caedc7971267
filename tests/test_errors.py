"""Every error leaves as RFC 9457 problem+json, including framework and unexpected ones."""

import httpx
import pytest

from syllabus.config import Settings
from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.probe import assert_problem, probed


async def test_validation_error_lists_every_failing_field(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post(
        "/api/v1/_probe/widgets?limit=many",
        json={"name": "", "size": 0, "tags": ["a", 1], "colour": "red"},
    )
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    fields = {(error["in"], error["field"]) for error in errors}
    assert fields == {
        ("query", "limit"),
        ("body", "name"),
        ("body", "size"),
        ("body", "tags[1]"),
        ("body", "colour"),
    }
    assert all(error["message"] and error["type"] for error in errors)
    assert body["detail"] == "Invalid value for: colour, limit, name, size, tags[1]"
    assert body["instance"] == "/api/v1/_probe/widgets"


async def test_malformed_json_is_a_400_problem_naming_the_body(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post(
        "/api/v1/_probe/widgets",
        content=b'{"name": "x",',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {
            "field": "body",
            "in": "body",
            "message": "not valid JSON: Expecting property name enclosed in double quotes "
            "(at character 13)",
            "type": "json_invalid",
        }
    ]


async def test_domain_error_carries_status_detail_and_extensions(
    probe_client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await probe_client.get("/api/v1/_probe/missing"), 404)
    assert body["detail"] == "widget:42 does not exist"
    assert body["resource"] == "widget"
    body = assert_problem(await probe_client.get("/api/v1/_probe/conflict"), 409, "attempt-open")
    assert body["attempt_id"] == "abc"


async def test_unknown_route_and_wrong_method_are_problems(
    probe_client: httpx.AsyncClient,
) -> None:
    assert_problem(await probe_client.get("/api/v1/nothing-here"), 404)
    response = await probe_client.delete("/api/v1/_probe/widgets")
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("env", ["test", "prod"])
async def test_unexpected_error_is_a_bare_500_without_internals(
    settings: Settings, env: str
) -> None:
    async with probed(settings.model_copy(update={"env": env})) as http:
        response = await http.get("/api/v1/_probe/crash")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert body == {
        "type": "urn:syllabus:problem:internal-error",
        "code": "internal-error",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/api/v1/_probe/crash",
    }


async def test_dev_names_the_exception_but_never_the_traceback(settings: Settings) -> None:
    async with probed(settings.model_copy(update={"env": "dev"})) as http:
        response = await http.get("/api/v1/_probe/crash")
    body = assert_problem(response, 500)
    assert body["detail"] == "RuntimeError: password=hunter2 leaked in an exception message"
    assert "Traceback" not in response.text
    assert "test_errors.py" not in response.text


async def test_openapi_and_docs_are_served(probe_client: httpx.AsyncClient) -> None:
    spec = (await probe_client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Syllabus"
    ready = spec["paths"]["/health/ready"]["get"]["responses"]
    assert PROBLEM_MEDIA_TYPE in ready["503"]["content"]
    docs = await probe_client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
