"""The model server (tests/ai/model_server.py), and the session's app pointed at it while
a test runs (a provider with no retries and a short timeout, so failures are
quick; a test that needs retries or a budget says so). Registered in tests/conftest.py:
the journey (tests/journey.py) chats too."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from fastapi import FastAPI

from syllabus.ai.provider import ModelProvider
from syllabus.config import Settings
from tests.ai.model_server import ModelServer, start_model_server


@pytest.fixture(scope="session")
async def model_server() -> AsyncIterator[ModelServer]:
    model, server, task = await start_model_server()
    yield model
    server.should_exit = True
    await asyncio.wait_for(task, 10)


Configure = Callable[..., ModelProvider]


@pytest.fixture
def tutor(app: FastAPI, model_server: ModelServer) -> Iterator[Configure]:
    """``tutor(**settings)``: point the app at the model server with these AI settings."""
    saved = app.state.settings, app.state.ai_provider
    model_server.reset()

    def configure(**overrides: object) -> ModelProvider:
        values: dict[str, object] = {
            "ai_base_url": model_server.url,
            "ai_max_retries": 0,
            "ai_timeout_seconds": 1.0,
        }
        values.update(overrides)
        settings: Settings = saved[0].model_copy(update=values)
        app.state.settings = settings
        app.state.ai_provider = ModelProvider(settings)
        return app.state.ai_provider  # type: ignore[no-any-return]

    configure()
    yield configure
    app.state.settings, app.state.ai_provider = saved
