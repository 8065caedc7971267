"""A stolen session must not outlive "sign out everywhere" or a password change, even
when the thief keeps rotating its refresh token while the owner revokes: a rotation in
flight during the revocation either finishes before it (and its successor is revoked)
or starts after it (and is refused). Requests commit for real and race in PostgreSQL."""

import asyncio
import random

import httpx
import pytest

from tests.identity.helpers import Account, sign_up

# A password change hashes twice per trial, on the one low-priority hashing thread that
# the thief's rotations keep waiting: fewer trials, the same revocation underneath.
TRIALS = {"logout-all": 30, "password-change": 10}


async def _rotate(
    client: httpx.AsyncClient, token: str, *, rotating: asyncio.Event, stop: asyncio.Event
) -> str:
    """Rotate back to back until told to stop or refused; the newest token issued.
    ``rotating`` is set once the first rotation went through."""
    while not stop.is_set():
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        if response.status_code != 200:
            break
        token = response.json()["refresh_token"]
        rotating.set()
    return token


async def _steal(client: httpx.AsyncClient, account: Account, password: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["refresh_token"])


@pytest.mark.parametrize("revocation", list(TRIALS))
async def test_no_stolen_session_survives_a_revocation_during_rotation(
    live_client: httpx.AsyncClient, revocation: str
) -> None:
    owner = await sign_up(live_client)
    password = owner.password
    trials = TRIALS[revocation]
    survivors = 0
    for trial in range(trials):
        stolen = await _steal(live_client, owner, password)
        rotating, stop = asyncio.Event(), asyncio.Event()
        thief = asyncio.create_task(_rotate(live_client, stolen, rotating=rotating, stop=stop))
        await rotating.wait()
        await asyncio.sleep(random.uniform(0, 0.02))  # somewhere in a later rotation
        if revocation == "logout-all":
            revoked = await live_client.post("/api/v1/auth/logout-all", headers=owner.headers)
        else:
            new_password = f"{owner.password} {trial}"
            revoked = await live_client.post(
                "/api/v1/users/me/password",
                headers=owner.headers,
                json={"current_password": password, "new_password": new_password},
            )
            password = new_password
        assert revoked.status_code == 204, revoked.text
        stop.set()
        last = await thief
        again = await live_client.post("/api/v1/auth/refresh", json={"refresh_token": last})
        assert again.status_code in (200, 401), again.text
        survivors += again.status_code == 200
    assert survivors == 0, f"{survivors} of {trials} stolen sessions survived"
