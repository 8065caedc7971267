"""Walking a keyset list one item a page, as a client would (``next_cursor``)."""

import httpx

from tests.identity.helpers import Account


async def id_pages(
    client: httpx.AsyncClient, url: str, account: Account, **params: str
) -> list[list[str]]:
    """The ids of each page of ``url`` with ``params``, one item a page, to the end."""
    found: list[list[str]] = []
    cursor: str | None = None
    while True:
        response = await client.get(
            url,
            params={**params, "limit": "1", **({"cursor": cursor} if cursor else {})},
            headers=account.headers,
        )
        assert response.status_code == 200, response.text
        found.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
