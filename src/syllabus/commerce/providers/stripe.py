"""Stripe through its official SDK (``stripe``): Checkout Sessions for courses (mode
``payment``) and plans (mode ``subscription``), signed webhooks verified by the SDK
(``Stripe-Signature``, five minutes' tolerance), refunds on the session's PaymentIntent.

Our payment id travels as the session's ``client_reference_id`` and in the metadata of
the PaymentIntent and the subscription, so every event names the payment it is about.
Subscription events are not trusted for their order: the subscription is fetched again
and its state now is what is applied (Stripe's own advice for out-of-order events)."""

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from syllabus.commerce.providers.base import (
    Delivery,
    Notification,
    NotificationRefused,
    Opened,
    Order,
    PaymentReport,
    ProviderUnavailable,
    Report,
    SubscriptionReport,
)

SUBSCRIPTION_STATUSES = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "incomplete": "past_due",
    "paused": "past_due",
    "canceled": "canceled",
    "incomplete_expired": "expired",
}
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
INVOICE_EVENTS = ("invoice.paid", "invoice.payment_failed")


def _payment_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class StripeProvider:
    name = "stripe"
    recurring = True

    def __init__(
        self, *, secret_key: str, webhook_secret: str, api_base: str | None, timeout: float
    ) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=timeout),
            max_network_retries=1,
        )

    async def _call(self, request: Any) -> dict[str, Any]:
        """Await an SDK call; a network failure or an error answer is a 503 here."""
        try:
            result = await request
        except stripe.StripeError as error:
            message = error.user_message or type(error).__name__
            raise ProviderUnavailable(f"Stripe: {message}") from error
        data: dict[str, Any] = result.to_dict()
        return data

    async def open(self, order: Order) -> Opened:
        reference = str(order.payment_id)
        price: dict[str, Any] = {
            "currency": order.currency.lower(),
            "unit_amount": order.amount_minor,
            "product_data": {"name": order.title},
        }
        params: dict[str, Any] = {
            "client_reference_id": reference,
            "metadata": {"payment_id": reference},
            "success_url": order.return_url,
            "cancel_url": order.return_url,
        }
        if order.period is None:
            params |= {
                "mode": "payment",
                "payment_intent_data": {"metadata": {"payment_id": reference}},
                "line_items": [{"quantity": 1, "price_data": price}],
            }
        else:
            price["recurring"] = {"interval": order.period}
            params |= {
                "mode": "subscription",
                "subscription_data": {"metadata": {"payment_id": reference}},
                "line_items": [{"quantity": 1, "price_data": price}],
            }
        session = await self._call(
            self.client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"checkout-{reference}"},
            )
        )
        return Opened(provider_payment_id=session["id"], confirmation_url=session["url"])

    async def verify(
        self, *, body: bytes, headers: Mapping[str, str], client: str | None
    ) -> Notification:
        try:
            event = self.client.construct_event(
                body.decode("utf-8"), headers.get("stripe-signature"), self.webhook_secret
            )
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
            raise NotificationRefused(f"Stripe-Signature does not verify: {error}") from None
        return Notification(event_id=event.id, type=event.type, payload=json.loads(body))

    async def _subscription(self, subscription_id: str) -> list[Report]:
        found = await self._call(self.client.v1.subscriptions.retrieve_async(subscription_id))
        payment_id = _payment_id(found.get("metadata", {}).get("payment_id"))
        if payment_id is None:
            return []  # not started by a checkout of ours
        items = found.get("items", {}).get("data") or [{}]
        period_end = items[0].get("current_period_end") or found.get("current_period_end")
        return [
            SubscriptionReport(
                provider_subscription_id=found["id"],
                payment_id=payment_id,
                status=SUBSCRIPTION_STATUSES.get(found["status"], "past_due"),  # type: ignore[arg-type]
                current_period_end=datetime.fromtimestamp(int(period_end or 0), UTC),
                cancel_at_period_end=bool(found.get("cancel_at_period_end")),
            )
        ]

    async def _intent_payment(self, intent_id: str) -> uuid.UUID | None:
        intent = await self._call(self.client.v1.payment_intents.retrieve_async(intent_id))
        return _payment_id(intent.get("metadata", {}).get("payment_id"))

    async def reports(self, notification: Notification) -> list[Report]:
        """Events of other types are recorded and acknowledged, and mean nothing here."""
        handler = {
            "checkout.session.completed": self._session,
            "checkout.session.expired": self._session,
            "payment_intent.succeeded": self._intent,
            "payment_intent.payment_failed": self._intent,
            "charge.refunded": self._refund,
            **dict.fromkeys(SUBSCRIPTION_EVENTS, self._subscription_event),
            **dict.fromkeys(INVOICE_EVENTS, self._invoice),
        }.get(notification.type)
        if handler is None:
            return []
        return await handler(notification.type, notification.payload["data"]["object"])

    async def _session(self, kind: str, obj: dict[str, Any]) -> list[Report]:
        payment_id = _payment_id(obj.get("client_reference_id"))
        if payment_id is None:
            return []
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        expired = kind == "checkout.session.expired"
        reports: list[Report] = [
            PaymentReport(
                payment_id=payment_id,
                outcome="succeeded" if paid else "canceled" if expired else None,
                amount_minor=obj.get("amount_total"),
                currency=str(obj.get("currency", "")).upper() or None,
            )
        ]
        if paid and obj.get("subscription"):
            reports += await self._subscription(str(obj["subscription"]))
        return reports

    async def _intent(self, kind: str, obj: dict[str, Any]) -> list[Report]:
        payment_id = _payment_id((obj.get("metadata") or {}).get("payment_id"))
        if payment_id is None:
            return []
        if kind == "payment_intent.payment_failed":
            return [PaymentReport(payment_id=payment_id, outcome="failed")]
        return [
            PaymentReport(
                payment_id=payment_id,
                outcome="succeeded",
                amount_minor=obj.get("amount_received"),
                currency=str(obj.get("currency", "")).upper(),
            )
        ]

    async def _refund(self, _kind: str, obj: dict[str, Any]) -> list[Report]:
        """``charge.refunded``: the charge's running total refunded. The charge names its
        PaymentIntent, whose metadata names our payment (asked when the charge's own
        metadata does not)."""
        payment_id = _payment_id((obj.get("metadata") or {}).get("payment_id"))
        if payment_id is None and obj.get("payment_intent"):
            payment_id = await self._intent_payment(str(obj["payment_intent"]))
        if payment_id is None:
            return []
        return [PaymentReport(payment_id=payment_id, refunded_minor=obj["amount_refunded"])]

    async def _subscription_event(self, _kind: str, obj: dict[str, Any]) -> list[Report]:
        return await self._subscription(str(obj["id"]))

    async def _invoice(self, _kind: str, obj: dict[str, Any]) -> list[Report]:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        subscription = details.get("subscription") or obj.get("subscription")
        return await self._subscription(str(subscription)) if subscription else []

    async def payment_reports(
        self, *, payment_id: uuid.UUID, provider_payment_id: str
    ) -> list[Report]:
        session = await self._call(
            self.client.v1.checkout.sessions.retrieve_async(provider_payment_id)
        )
        paid = session.get("payment_status") in ("paid", "no_payment_required")
        refunded = None
        if paid and session.get("payment_intent"):
            intent = await self._call(
                self.client.v1.payment_intents.retrieve_async(
                    str(session["payment_intent"]), {"expand": ["latest_charge"]}
                )
            )
            charge = intent.get("latest_charge")
            refunded = charge.get("amount_refunded") if isinstance(charge, dict) else None
        reports: list[Report] = [
            PaymentReport(
                payment_id=payment_id,
                outcome="succeeded"
                if paid
                else "canceled"
                if session.get("status") == "expired"
                else None,
                amount_minor=session.get("amount_total"),
                currency=str(session.get("currency", "")).upper() or None,
                refunded_minor=refunded,
            )
        ]
        if paid and session.get("subscription"):
            reports += await self._subscription(str(session["subscription"]))
        return reports

    async def subscription_reports(self, provider_subscription_id: str) -> list[Report]:
        return await self._subscription(provider_subscription_id)

    async def abandon(self, provider_payment_id: str) -> bool:
        """Expire the Checkout Session if it is still open (Stripe's way to close one)."""
        session = await self._call(
            self.client.v1.checkout.sessions.retrieve_async(provider_payment_id)
        )
        if session.get("status") == "open":
            await self._call(self.client.v1.checkout.sessions.expire_async(provider_payment_id))
        return True

    async def cancel_now(self, provider_subscription_id: str) -> None:
        await self._call(self.client.v1.subscriptions.cancel_async(provider_subscription_id))

    async def refund(
        self, *, provider_payment_id: str, amount_minor: int, total_after: int, currency: str
    ) -> Delivery | None:
        session = await self._call(
            self.client.v1.checkout.sessions.retrieve_async(provider_payment_id)
        )
        intent = session.get("payment_intent")
        if not intent:
            raise ProviderUnavailable("Stripe: the checkout has no PaymentIntent to refund")
        await self._call(
            self.client.v1.refunds.create_async(
                {"payment_intent": str(intent), "amount": amount_minor},
                {"idempotency_key": f"refund-{provider_payment_id}-{total_after}"},
            )
        )
        return None

    async def cancel_at_period_end(self, provider_subscription_id: str) -> None:
        await self._call(
            self.client.v1.subscriptions.update_async(
                provider_subscription_id, {"cancel_at_period_end": True}
            )
        )
