"""YooKassa through its official SDK (``yookassa``): redirect payments in roubles (or any
currency the shop takes), refunds, and notifications.

YooKassa does not sign its notifications, so one is accepted only from the addresses it
publishes (``SYLLABUS_YOOKASSA_NOTIFICATION_IPS``), and even then it is never believed:
the payment (or refund) is fetched again from the API, as YooKassa's documentation
recommends, and that answer is what is applied. The SDK is synchronous: every call runs
in a worker thread, under ``SYLLABUS_PAYMENT_TIMEOUT_SECONDS`` (the SDK sets no timeout
of its own, so its HTTP session is given one). A plan's first payment saves the buyer's
payment method (``save_payment_method``); each later period is charged to it by
``syllabus payments renew-due`` (``commerce.renew``).
"""

import asyncio
import ipaddress
import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from yookassa import Configuration, Payment, Refund
from yookassa.client import ApiClient

from syllabus.commerce.providers.base import (
    Delivery,
    Notification,
    NotificationRefused,
    NotYet,
    Opened,
    Order,
    PaymentReport,
    ProviderUnavailable,
    Report,
)

T = TypeVar("T")
EVENTS = ("payment.succeeded", "payment.canceled", "refund.succeeded")
OUTCOMES = {"succeeded": "succeeded", "canceled": "canceled"}
MINOR = Decimal(100)
"""Kopecks in a rouble (and cents in the other currencies YooKassa takes)."""


class _TimedSession(requests.Session):
    timeout: float = 10.0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class _TimedClient(ApiClient):  # type: ignore[misc]
    """The SDK's client with a timeout on every request (it passes none)."""

    timeout_seconds = 10.0

    def get_session(self) -> requests.Session:
        session = _TimedSession()
        session.timeout = self.timeout_seconds
        session.mount("https://", HTTPAdapter(max_retries=0))
        return session


class _Payment(Payment):  # type: ignore[misc]
    def __init__(self) -> None:
        self.client = _TimedClient()


class _Refund(Refund):  # type: ignore[misc]
    def __init__(self) -> None:
        self.client = _TimedClient()


def _value(minor: int) -> str:
    """Minor units as YooKassa writes amounts: ``"19.00"``."""
    return str((Decimal(minor) / MINOR).quantize(Decimal("0.01")))


def _minor(amount: Any) -> int:
    return int(Decimal(str(amount.value)) * MINOR)


class YooKassaProvider:
    name = "yookassa"
    recurring = False  # YooKassa bills nothing by itself: we charge the saved method

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        api_base: str | None,
        timeout: float,
        allowed: list[str],
    ) -> None:
        extra = {"api_url": api_base} if api_base else {}
        Configuration.configure(shop_id, secret_key, **extra)
        _TimedClient.timeout_seconds = timeout
        self.timeout = timeout
        self.allowed = [ipaddress.ip_network(network, strict=False) for network in allowed]

    async def _call(self, call: Callable[[], T]) -> T:
        """A synchronous SDK call, off the event loop and under the timeout."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self.timeout + 1)
        except Exception as error:  # the SDK raises its own errors, requests' and ours
            raise ProviderUnavailable(f"YooKassa: {type(error).__name__}") from error

    async def open(self, order: Order) -> Opened:
        params = {
            "amount": {
                "value": _value(order.amount_minor),
                "currency": order.currency,
            },
            "confirmation": {"type": "redirect", "return_url": order.return_url},
            "capture": True,
            "description": order.title[:128],
            "metadata": {"payment_id": str(order.payment_id)},
        }
        if order.period is not None:  # a plan: renewed by charging the saved method
            params["save_payment_method"] = True
        created = await self._call(
            lambda: _Payment.create(params, idempotency_key=str(order.payment_id))
        )
        return Opened(
            provider_payment_id=created.id,
            confirmation_url=created.confirmation.confirmation_url,
        )

    async def verify(
        self, *, body: bytes, headers: Mapping[str, str], client: str | None
    ) -> Notification:
        try:
            address = ipaddress.ip_address(client or "")
        except ValueError:
            raise NotificationRefused("the sender's address is unknown") from None
        if not any(address in network for network in self.allowed):
            raise NotificationRefused(f"{address} is not one of YooKassa's addresses")
        try:
            payload = json.loads(body)
            event, obj = payload["event"], payload["object"]
            event_id = f"{event}:{obj['id']}"
        except (ValueError, KeyError, TypeError):
            raise NotificationRefused("not a YooKassa notification") from None
        return Notification(event_id=event_id, type=str(event), payload=payload)

    async def _payment(self, provider_payment_id: str) -> PaymentReport | None:
        found = await self._call(lambda: _Payment.find_one(provider_payment_id))
        try:
            payment_id = uuid.UUID(str((found.metadata or {}).get("payment_id")))
        except ValueError:
            return None  # not one of ours
        return self._report(payment_id, found)

    @staticmethod
    def _report(payment_id: uuid.UUID, found: Any) -> PaymentReport:
        refunded = found.refunded_amount
        method = found.payment_method
        return PaymentReport(
            payment_id=payment_id,
            outcome=OUTCOMES.get(found.status),  # type: ignore[arg-type]
            amount_minor=_minor(found.amount),
            currency=found.amount.currency,
            refunded_minor=_minor(refunded) if refunded is not None else None,
            payment_method_id=method.id if method is not None and method.saved else None,
        )

    async def charge(
        self, *, order: Order, payment_method_id: str, key: str
    ) -> tuple[str, PaymentReport]:
        """A recurring charge: the saved method, no confirmation, captured at once."""
        params = {
            "amount": {"value": _value(order.amount_minor), "currency": order.currency},
            "payment_method_id": payment_method_id,
            "capture": True,
            "description": order.title[:128],
            "metadata": {"payment_id": str(order.payment_id)},
        }
        created = await self._call(lambda: _Payment.create(params, idempotency_key=key))
        payment_id = uuid.UUID(str((created.metadata or {})["payment_id"]))
        return str(created.id), self._report(payment_id, created)

    async def reports(self, notification: Notification) -> list[Report]:
        """Never the notification's word: the API's, asked again."""
        if notification.type not in EVENTS:
            return []
        obj_id = str(notification.payload["object"]["id"])
        if notification.type == "refund.succeeded":
            refund = await self._call(lambda: _Refund.find_one(obj_id))
            if refund.status != "succeeded":
                raise NotYet(f"the API says refund {obj_id} is {refund.status}")
            obj_id = str(refund.payment_id)
        report = await self._payment(obj_id)
        if report is None:
            return []
        claimed = notification.type.removeprefix("payment.")
        if notification.type.startswith("payment.") and report.outcome != claimed:
            raise NotYet(f"the API says payment {obj_id} is not {claimed}")
        return [report]

    async def payment_reports(
        self, *, payment_id: uuid.UUID, provider_payment_id: str
    ) -> list[Report]:
        report = await self._payment(provider_payment_id)
        return [report if report is not None else PaymentReport(payment_id=payment_id)]

    async def subscription_reports(self, provider_subscription_id: str) -> list[Report]:
        """A plan bought here is a prepaid period: YooKassa holds no subscription."""
        return []

    async def abandon(self, provider_payment_id: str) -> bool:
        """YooKassa cancels only a payment waiting for capture; an unpaid redirect payment
        cannot be closed through the API and is cancelled by YooKassa when its time to
        pay runs out (``expired_on_confirmation``)."""
        return False

    async def cancel_now(self, provider_subscription_id: str) -> None:
        """A prepaid period bills nothing again: nothing to tell YooKassa."""

    async def refund(
        self, *, provider_payment_id: str, amount_minor: int, total_after: int, currency: str
    ) -> Delivery | None:
        params = {
            "payment_id": provider_payment_id,
            "amount": {"value": _value(amount_minor), "currency": currency},
        }
        key = f"refund-{provider_payment_id}-{total_after}"
        await self._call(lambda: _Refund.create(params, idempotency_key=key))
        return None

    async def cancel_at_period_end(self, provider_subscription_id: str) -> None:
        """A prepaid period ends by itself: nothing to tell YooKassa."""
