"""The sandbox provider, for ``make run`` and the tests only (refused in prod): a checkout
opens a page of this service (``/api/v1/sandbox/payments/{id}``, its link signed so an
id alone does not open it) with "Pay" and "Decline"; pressing one sends a notification
signed with this data directory's secret through the same webhook machinery as the real
providers (``POST /api/v1/webhooks/sandbox``). An admin refund is answered at once the
same way."""

import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import Mapping
from pathlib import Path

from syllabus.commerce.providers.base import (
    Delivery,
    Notification,
    NotificationRefused,
    Opened,
    Order,
    PaymentReport,
    Report,
)

SIGNATURE_HEADER = "syllabus-sandbox-signature"
KEY_FILE = "sandbox-payments.key"
ACTIONS = {"pay": "payment.succeeded", "decline": "payment.canceled"}


def data_dir_secret(data_dir: Path) -> bytes:
    """This data directory's sandbox secret, made on first use (mode 0600)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class SandboxProvider:
    name = "sandbox"
    recurring = False

    def __init__(self, *, secret: bytes, page_base: str) -> None:
        self.secret = secret
        self.page_base = page_base.rstrip("/")

    def _sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def page_token(self, payment_id: uuid.UUID) -> str:
        return self._sign(f"page:{payment_id}".encode())

    def page_token_ok(self, payment_id: uuid.UUID, token: str) -> bool:
        return hmac.compare_digest(self.page_token(payment_id), token)

    def delivery(self, event: dict[str, object]) -> Delivery:
        body = json.dumps(event, separators=(",", ":")).encode()
        return Delivery(body=body, headers={SIGNATURE_HEADER: self._sign(body)})

    def buyer_decided(
        self, *, payment_id: uuid.UUID, action: str, amount_minor: int, currency: str
    ) -> Delivery:
        """What pressing "Pay" or "Decline" sends."""
        return self.delivery(
            {
                "id": f"sbx_evt_{uuid.uuid4().hex}",
                "type": ACTIONS[action],
                "payment_id": str(payment_id),
                "amount_minor": amount_minor,
                "currency": currency,
            }
        )

    async def open(self, order: Order) -> Opened:
        url = f"{self.page_base}/{order.payment_id}?token={self.page_token(order.payment_id)}"
        return Opened(provider_payment_id=f"sbx_{order.payment_id.hex}", confirmation_url=url)

    async def verify(
        self, *, body: bytes, headers: Mapping[str, str], client: str | None
    ) -> Notification:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(self._sign(body), signature):
            raise NotificationRefused(f"{SIGNATURE_HEADER} does not verify")
        try:
            payload = json.loads(body)
            return Notification(event_id=str(payload["id"]), type=payload["type"], payload=payload)
        except (ValueError, KeyError, TypeError):
            raise NotificationRefused("not a sandbox notification") from None

    async def reports(self, notification: Notification) -> list[Report]:
        payload = notification.payload
        payment_id = uuid.UUID(str(payload["payment_id"]))
        if notification.type == "refund.succeeded":
            return [PaymentReport(payment_id=payment_id, refunded_minor=payload["refunded_minor"])]
        return [
            PaymentReport(
                payment_id=payment_id,
                outcome="succeeded" if notification.type == "payment.succeeded" else "canceled",
                amount_minor=payload.get("amount_minor"),
                currency=payload.get("currency"),
            )
        ]

    async def payment_reports(
        self, *, payment_id: uuid.UUID, provider_payment_id: str
    ) -> list[Report]:
        """The sandbox keeps no state of its own: what this service knows is all there is."""
        return [PaymentReport(payment_id=payment_id)]

    async def subscription_reports(self, provider_subscription_id: str) -> list[Report]:
        return []

    async def abandon(self, provider_payment_id: str) -> bool:
        """Its page takes an answer for a pending payment only: nothing to close."""
        return True

    async def cancel_now(self, provider_subscription_id: str) -> None:
        """Sandbox plans are prepaid periods: nothing bills again."""

    async def refund(
        self, *, provider_payment_id: str, amount_minor: int, total_after: int, currency: str
    ) -> Delivery | None:
        payment_id = uuid.UUID(hex=provider_payment_id.removeprefix("sbx_"))
        return self.delivery(
            {
                "id": f"sbx_refund_{payment_id.hex}_{total_after}",
                "type": "refund.succeeded",
                "payment_id": str(payment_id),
                "refunded_minor": total_after,
            }
        )

    async def cancel_at_period_end(self, provider_subscription_id: str) -> None:
        """Sandbox plans are prepaid periods: nothing bills again, nothing to tell."""
