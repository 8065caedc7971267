from pathlib import Path

import httpx
import pytest

from tests.assessment.test_attempts import RIGHT, start, submit
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"


@pytest.fixture
async def dataset(client: httpx.AsyncClient, loaded: Path) -> list[Account]:
    """Three learners in the free course: one completes it (passing the quiz), one starts
    a lesson and fails the quiz, one only enrolls."""
    learners = [await sign_up(client) for _ in range(3)]
    for learner in learners:
        await enroll(client, learner, FREE)
    done_, halfway_, _ = learners
    await progress(client, done_, "lesson:rest-basics-intro", status="completed")
    await progress(client, done_, "lesson:rest-basics-more", status="completed")
    attempt = (await start(client, done_)).json()["id"]
    assert (await submit(client, done_, attempt, RIGHT, "key-analytics-1")).json()["passed"]
    await progress(client, halfway_, "lesson:rest-basics-intro", status="started")
    attempt = (await start(client, halfway_)).json()["id"]
    assert not (await submit(client, halfway_, attempt, RIGHT[:1], "key-analytics-2")).json()[
        "passed"
    ]
    return learners
