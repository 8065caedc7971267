"""A store that does not answer is a 503 with Retry-After on every API route, documented
in OpenAPI; never a 500. (tests/crash/ restarts a real PostgreSQL under load.)"""

import httpx

from syllabus.config import Settings
from syllabus.embedded import free_port
from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.test_health import running_app


async def test_an_unreachable_postgresql_is_a_503_with_retry_after(settings: Settings) -> None:
    nowhere = f"postgresql://syllabus@127.0.0.1:{free_port()}/syllabus"  # nothing listens
    async with running_app(settings.model_copy(update={"postgres_url": nowhere})) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": "ada@example.org", "password": "x" * 12}
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["detail"] == "a data store is not answering; retry later"  # no exception text
    assert "127.0.0.1" not in response.text


async def test_openapi_documents_503_and_the_idempotency_key(
    probe_client: httpx.AsyncClient,
) -> None:
    spec = (await probe_client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/v1"):
                outage = operation["responses"]["503"]
                assert PROBLEM_MEDIA_TYPE in outage["content"], f"{method} {path}"
    assert "503" not in spec["paths"]["/health/live"]["get"]["responses"]
    for path, method in (
        ("/api/v1/progress/lessons/{lesson_id}", "put"),
        ("/api/v1/quizzes/{quiz_id}/attempts", "post"),
    ):
        operation = spec["paths"][path][method]
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (header["in"], header.get("required", False)) == ("header", False)
        assert "422" in operation["responses"]
        assert operation["responses"]["200" if method == "put" else "201"]["content"]
