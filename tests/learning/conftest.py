"""Fixtures the learning tests share."""

from pathlib import Path

import httpx
import pytest

from tests.identity.helpers import Account
from tests.learning.helpers import enroll

FREE = "course:rest-basics"
"""The loaded folder's free course (tests/content/folder.py)."""


@pytest.fixture
async def enrolled(client: httpx.AsyncClient, loaded: Path, learner: Account) -> Account:
    """A learner enrolled in the free course."""
    await enroll(client, learner, FREE)
    return learner
