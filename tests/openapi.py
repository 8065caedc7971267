"""The app's OpenAPI document, built without opening a store: the tests that derive
their cases from it (fuzzing, the access-control matrix) read it at collection time."""

from functools import cache
from typing import Any

from syllabus.config import Settings
from syllabus.main import create_app


@cache
def openapi_document() -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        env="test",
        postgres_url="postgresql://unused@localhost/unused",
        mongo_url="mongodb://localhost/unused",
    )
    return create_app(settings).openapi()
