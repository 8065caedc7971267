"""The providers this deployment offers, built once per app from its settings.

The Stripe and YooKassa SDKs are imported only when their provider is configured: each
costs several MiB of memory per process at import (``stripe`` alone about 16 MiB RSS),
which a deployment that does not use it should not pay (tests/commerce/test_lazy_sdks.py).
"""

from typing import Annotated

from fastapi import Depends, Request

from syllabus.commerce.providers.base import Provider
from syllabus.commerce.providers.sandbox import SandboxProvider, data_dir_secret
from syllabus.config import Settings

SANDBOX_PAGES = "/api/v1/sandbox/payments"


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Every provider with its settings (a provider without them is not offered)."""
    providers: dict[str, Provider] = {}
    timeout = settings.payment_timeout_seconds
    if settings.stripe_secret_key is not None and settings.stripe_webhook_secret is not None:
        from syllabus.commerce.providers.stripe import StripeProvider  # lazy: see above

        providers["stripe"] = StripeProvider(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout=timeout,
        )
    if settings.yookassa_shop_id is not None and settings.yookassa_secret_key is not None:
        from syllabus.commerce.providers.yookassa import YooKassaProvider

        providers["yookassa"] = YooKassaProvider(
            shop_id=settings.yookassa_shop_id,
            secret_key=settings.yookassa_secret_key.get_secret_value(),
            api_base=settings.yookassa_api_base,
            timeout=timeout,
            allowed=settings.yookassa_notification_ips,
        )
    if settings.sandbox_enabled:
        providers["sandbox"] = SandboxProvider(
            secret=data_dir_secret(settings.data_dir),
            page_base=settings.public_url + SANDBOX_PAGES,
        )
    return providers


async def get_providers(request: Request) -> dict[str, Provider]:
    providers: dict[str, Provider] | None = getattr(request.app.state, "payment_providers", None)
    if providers is None:
        providers = build_providers(request.app.state.settings)
        request.app.state.payment_providers = providers
    return providers


ProvidersDep = Annotated[dict[str, Provider], Depends(get_providers)]
