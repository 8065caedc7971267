"""The sandbox's payment page in a real browser (headless Chromium): the learner opens
the ``confirmation_url`` a checkout gave, presses Pay (a mouse click, under the page's
own Content-Security-Policy, which a browser enforces and a test client does not), and
ends up able to read the paid course."""

from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from syllabus.commerce.providers.base import Provider
from tests.browser import chromium, served
from tests.commerce.helpers import PAID_LESSON, bought
from tests.conftest import PUBLIC_BASE_URL
from tests.identity.helpers import sign_up


async def test_a_learner_pays_on_the_sandbox_page_in_chromium(
    live_client: httpx.AsyncClient,
    live_loaded: Path,
    app: FastAPI,
    providers: dict[str, Provider],
    tmp_path: Path,
) -> None:
    learner = await sign_up(live_client)
    payment = await bought(live_client, learner, provider="sandbox")
    assert (await live_client.get(PAID_LESSON, headers=learner.headers)).status_code == 403
    # The link is absolute on the public base URL; behind it, a proxy strips the prefix.
    link = urlsplit(str(payment["confirmation_url"]))
    path = link.path.removeprefix(urlsplit(PUBLIC_BASE_URL).path)

    async with served(app) as origin, chromium(tmp_path / "profile") as page:
        await page.goto(f"{origin}{path}?{link.query}")
        assert await page.evaluate("document.title") == "Sandbox payment"
        shown = await page.evaluate("document.body.innerText")
        assert "19.00 USD" in shown
        await page.click("button[value=pay]")
        assert await page.evaluate("location.pathname") == path
        assert "This payment is succeeded." in await page.evaluate("document.body.innerText")

    assert (await live_client.get(PAID_LESSON, headers=learner.headers)).status_code == 200
    async with app.state.engine.connect() as connection:
        status = await connection.execute(
            text("SELECT status FROM payments WHERE id = :id"), {"id": payment["payment_id"]}
        )
        assert status.scalar_one() == "succeeded"
