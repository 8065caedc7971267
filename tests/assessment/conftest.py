"""Fixtures the assessment tests share."""

from pathlib import Path

import httpx
import pytest

from tests.identity.helpers import Account
from tests.learning.helpers import enroll


@pytest.fixture
async def learner_in(client: httpx.AsyncClient, loaded: Path, learner: Account) -> Account:
    """A learner enrolled in the free course of the test folder."""
    await enroll(client, learner, "course:rest-basics")
    return learner
