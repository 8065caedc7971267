"""Stores loaded with the small folder, and a learner who really used them."""

from pathlib import Path

import httpx
import pytest

from tests.assessment.test_attempts import RIGHT, start, submit
from tests.identity.helpers import Account
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"


@pytest.fixture
async def studied(client: httpx.AsyncClient, loaded: Path, learner: Account) -> Account:
    """Through the API: an enrollment, both lessons completed (one with a note), and a
    submitted quiz attempt, with the activity and the award they bring."""
    await enroll(client, learner, FREE)
    done = await progress(client, learner, INTRO, status="completed")
    assert done.status_code == 200, done.text
    noted = await progress(client, learner, MORE, status="completed", note="Read again")
    assert noted.status_code == 200, noted.text
    attempt = await start(client, learner)
    assert attempt.status_code == 201, attempt.text
    submitted = await submit(client, learner, attempt.json()["id"], RIGHT, "doctor-1")
    assert submitted.status_code == 200, submitted.text
    return learner
