"""Races decided by PostgreSQL, with requests that really commit in parallel."""

import asyncio

import httpx

from tests.identity.helpers import PASSWORD, sign_up, unique_email


async def test_parallel_refreshes_with_one_token_let_at_most_one_through(
    live_client: httpx.AsyncClient,
) -> None:
    account = await sign_up(live_client)
    responses = await asyncio.gather(
        *(
            live_client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
            for _ in range(6)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) <= 1
    assert set(statuses) <= {200, 401}
    # The reuse revoked the family: nothing minted in the race survives it.
    for response in responses:
        if response.status_code == 200:
            again = await live_client.post(
                "/api/v1/auth/refresh", json={"refresh_token": response.json()["refresh_token"]}
            )
            assert again.status_code == 401


async def test_parallel_sign_ups_with_one_email_create_one_account(
    live_client: httpx.AsyncClient,
) -> None:
    email = unique_email("race")
    responses = await asyncio.gather(
        *(
            live_client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "name": f"Racer {n}"},
            )
            for n in range(10)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 9
    login = await live_client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_parallel_guesses_are_counted_one_by_one(live_client: httpx.AsyncClient) -> None:
    account = await sign_up(live_client)
    responses = await asyncio.gather(
        *(
            live_client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": "a wrong guess"}
            )
            for _ in range(12)
        )
    )
    statuses = [response.status_code for response in responses]
    assert statuses.count(401) == 5
    assert statuses.count(429) == 7
