"""Commerce fixtures: the provider doubles running, and the app offering Stripe,
YooKassa (both against their doubles) and the sandbox."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce.providers.base import Provider
from syllabus.commerce.providers.sandbox import SandboxProvider
from syllabus.commerce.providers.stripe import StripeProvider
from syllabus.commerce.providers.yookassa import YooKassaProvider
from syllabus.config import YOOKASSA_NOTIFICATION_IPS
from tests.commerce.doubles import (
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    YOOKASSA_SECRET,
    YOOKASSA_SHOP,
    StripeDouble,
    YooKassaDouble,
)
from tests.conftest import PUBLIC_BASE_URL
from tests.isolation import on_session

YOOKASSA_ADDRESS = "185.71.76.10"
"""An address inside YooKassa's published ranges, as the ASGI client's."""


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    double = StripeDouble()
    with double.running():
        yield double


@pytest.fixture
def yookassa_double() -> Iterator[YooKassaDouble]:
    double = YooKassaDouble()
    with double.running():
        yield double


@pytest.fixture
def providers(
    app: FastAPI, stripe_double: StripeDouble, yookassa_double: YooKassaDouble
) -> Iterator[dict[str, Provider]]:
    """The app offers the three providers for the test (then builds them from its
    settings again)."""
    offered: dict[str, Provider] = {
        "stripe": StripeProvider(
            secret_key=STRIPE_KEY,
            webhook_secret=STRIPE_WEBHOOK_SECRET,
            api_base=stripe_double.url,
            timeout=5,
        ),
        "yookassa": YooKassaProvider(
            shop_id=YOOKASSA_SHOP,
            secret_key=YOOKASSA_SECRET,
            api_base=f"{yookassa_double.url}/v3",
            timeout=1,
            allowed=list(YOOKASSA_NOTIFICATION_IPS),
        ),
        "sandbox": SandboxProvider(
            secret=b"sandbox-test-secret", page_base=f"{PUBLIC_BASE_URL}/api/v1/sandbox/payments"
        ),
    }
    previous = getattr(app.state, "payment_providers", None)
    app.state.payment_providers = offered
    try:
        yield offered
    finally:
        app.state.payment_providers = previous


@pytest.fixture
async def yookassa_client(
    app: FastAPI, session: AsyncSession, providers: dict[str, Provider]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from one of YooKassa's addresses, on the test's session."""
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=False, client=(YOOKASSA_ADDRESS, 443)
    )
    with on_session(app, session):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
