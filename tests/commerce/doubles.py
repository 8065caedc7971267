"""Local HTTP doubles of the Stripe and YooKassa APIs, speaking their documented wire
protocols (Stripe: form-encoded bodies with bracketed keys, bearer key, Idempotency-Key,
JSON objects; YooKassa v3: JSON bodies, Basic auth, Idempotence-Key), so the official
SDKs run unchanged against them. Each also plays the buyer and the provider's side:
paying, renewing, refunding, and the notifications those send (Stripe's signed exactly
as Stripe signs them)."""

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

MONTH_SECONDS = 30 * 24 * 3600


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs (Stripe's encoding) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})  # numbered keys become lists afterwards
        node[parts[-1]] = value
    nested: dict[str, Any] = _lists(root)
    return nested


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


class _Server:
    """A threading HTTP server on 127.0.0.1 and a free port; ``route`` answers."""

    def __init__(self) -> None:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = double.route(
                    self.command, self.path, raw, {k.lower(): v for k, v in self.headers.items()}
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []

    def route(self, method: str, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator["_Server"]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


STRIPE_KEY = "sk_test_double"
BUYER: dict[str, Any] = {
    "email": "buyer@example.org",
    "name": "Ada Buyer",
    "phone": "+44 20 7946 0000",
    "address": {"country": "GB", "city": "London", "line1": "1 Example Street"},
}
"""What Stripe's hosted page collects from the buyer (it appears in events)."""
STRIPE_WEBHOOK_SECRET = "whsec_double"


@dataclass
class Signed:
    body: bytes
    headers: dict[str, str]


class StripeDouble(_Server):
    """``/v1/checkout/sessions`` (and their ``expire``), ``/v1/payment_intents``,
    ``/v1/refunds``, ``/v1/subscriptions`` (update, cancel) as Stripe documents them, in
    test mode."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, Any]] = {}
        self.down = False

    @staticmethod
    def _id(prefix: str) -> str:
        return f"{prefix}_test_{uuid.uuid4().hex[:24]}"

    def _error(self, status: int, message: str) -> tuple[int, Any]:
        return status, {"error": {"type": "invalid_request_error", "message": message}}

    def route(self, method: str, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        parts = urlsplit(path)
        body = _nest(parse_qsl(raw.decode(), keep_blank_values=True))
        query = _nest(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            self.requests.append(Recorded(method, parts.path, body, headers))
            if self.down:
                return self._error(500, "the double is down")
            if headers.get("authorization") != f"Bearer {STRIPE_KEY}":
                return 401, {"error": {"type": "invalid_request_error", "message": "bad key"}}
            key = headers.get("idempotency-key")
            if method == "POST" and key and key in self.idempotent:
                return self.idempotent[key]
            answer = self._dispatch(method, parts.path.strip("/").split("/"), body, query)
            if method == "POST" and key:
                self.idempotent[key] = answer
            return answer

    def _dispatch(  # noqa: PLR0911 - one return per route, as a router reads
        self, method: str, path: list[str], body: dict[str, Any], query: dict[str, Any]
    ) -> tuple[int, Any]:
        match method, path:
            case "POST", ["v1", "checkout", "sessions"]:
                return 200, self._create_session(body)
            case "GET", ["v1", "checkout", "sessions", found]:
                return (
                    (200, self._public(self.sessions[found]))
                    if found in self.sessions
                    else self._error(404, "no such session")
                )
            case "POST", ["v1", "checkout", "sessions", found, "expire"]:
                return self._expire(found)
            case "GET", ["v1", "payment_intents", found]:
                if found not in self.intents:
                    return self._error(404, "no such payment_intent")
                intent = dict(self.intents[found])
                if "latest_charge" in (query.get("expand") or []):
                    intent["latest_charge"] = self.charges[intent["latest_charge"]]
                return 200, intent
            case "POST", ["v1", "refunds"]:
                return self._refund(body)
            case "GET", ["v1", "subscriptions", found]:
                return (
                    (200, self.subscriptions[found])
                    if found in self.subscriptions
                    else self._error(404, "no such subscription")
                )
            case "DELETE", ["v1", "subscriptions", found]:
                return self._cancel(found)
            case "POST", ["v1", "subscriptions", found]:
                if found not in self.subscriptions:
                    return self._error(404, "no such subscription")
                if "cancel_at_period_end" in body:
                    self.subscriptions[found]["cancel_at_period_end"] = (
                        body["cancel_at_period_end"] == "true"
                    )
                return 200, self.subscriptions[found]
        return self._error(404, f"unknown route {method} {'/'.join(path)}")

    def _expire(self, session_id: str) -> tuple[int, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            return self._error(404, "no such session")
        if session["status"] != "open":
            return self._error(400, f"the session is {session['status']}")
        session["status"] = "expired"
        return 200, self._public(session)

    def _cancel(self, subscription_id: str) -> tuple[int, Any]:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            return self._error(404, "no such subscription")
        if subscription["status"] == "canceled":
            return self._error(400, "the subscription is canceled already")
        subscription["status"] = "canceled"
        return 200, subscription

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in session.items() if not key.startswith("_")}

    def _create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        line = body["line_items"][0]
        price = line["price_data"]
        session_id = self._id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "mode": body["mode"],
            "client_reference_id": body.get("client_reference_id"),
            "metadata": body.get("metadata", {}),
            "amount_total": int(price["unit_amount"]) * int(line["quantity"]),
            "currency": price["currency"],
            "payment_status": "unpaid",
            "status": "open",
            "payment_intent": None,
            "subscription": None,
            "success_url": body["success_url"],
            "_intent_metadata": body.get("payment_intent_data", {}).get("metadata", {}),
            "_subscription_metadata": body.get("subscription_data", {}).get("metadata", {}),
            "_interval": price.get("recurring", {}).get("interval"),
        }
        self.sessions[session_id] = session
        return self._public(session)

    def _refund(self, body: dict[str, Any]) -> tuple[int, Any]:
        intent = self.intents.get(body.get("payment_intent", ""))
        if intent is None:
            return self._error(404, "no such payment_intent")
        charge = self.charges[intent["latest_charge"]]
        amount = int(body.get("amount") or charge["amount"] - charge["amount_refunded"])
        if amount > charge["amount"] - charge["amount_refunded"]:
            return self._error(400, "amount exceeds what is left")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return 200, {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": intent["id"],
            "status": "succeeded",
        }

    # -- the buyer and Stripe's side ------------------------------------------------------

    def signed(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        secret: str = STRIPE_WEBHOOK_SECRET,
        timestamp: int | None = None,
        event_id: str | None = None,
    ) -> Signed:
        """An event as Stripe sends it, with its ``Stripe-Signature`` header."""
        event = {
            "id": event_id or self._id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
        return Signed(
            payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}
        )

    def pay(
        self, session_id: str, *, amount: int | None = None, currency: str | None = None
    ) -> list[Signed]:
        """The buyer pays on the hosted page: the session completes (with what Stripe
        charged: ``amount``/``currency`` to make it differ) and the events follow."""
        with self.lock:
            session = self.sessions[session_id]
            if amount is not None:
                session["amount_total"] = amount
            if currency is not None:
                session["currency"] = currency
            session.update(status="complete", payment_status="paid", customer_details=BUYER)
            events: list[Signed] = []
            if session["mode"] == "payment":
                intent_id, charge_id = self._id("pi"), self._id("ch")
                self.charges[charge_id] = {
                    "id": charge_id,
                    "object": "charge",
                    "amount": session["amount_total"],
                    "amount_refunded": 0,
                    "refunded": False,
                    "payment_intent": intent_id,
                    "currency": session["currency"],
                    "metadata": {},
                    "billing_details": BUYER,
                }
                self.intents[intent_id] = {
                    "id": intent_id,
                    "object": "payment_intent",
                    "status": "succeeded",
                    "amount": session["amount_total"],
                    "amount_received": session["amount_total"],
                    "currency": session["currency"],
                    "metadata": session["_intent_metadata"],
                    "latest_charge": charge_id,
                }
                session["payment_intent"] = intent_id
                events.append(self.signed("payment_intent.succeeded", self.intents[intent_id]))
            else:
                subscription_id = self._id("sub")
                now = int(time.time())
                self.subscriptions[subscription_id] = {
                    "id": subscription_id,
                    "object": "subscription",
                    "status": "active",
                    "cancel_at_period_end": False,
                    "metadata": session["_subscription_metadata"],
                    "items": {
                        "object": "list",
                        "data": [
                            {
                                "id": self._id("si"),
                                "object": "subscription_item",
                                "current_period_start": now,
                                "current_period_end": now + MONTH_SECONDS,
                            }
                        ],
                    },
                }
                session["subscription"] = subscription_id
            return [self.signed("checkout.session.completed", self._public(session)), *events]

    def refunded(self, intent_id: str) -> Signed:
        """``charge.refunded`` for the intent's charge, as it stands now."""
        with self.lock:
            charge = self.charges[self.intents[intent_id]["latest_charge"]]
            return self.signed("charge.refunded", dict(charge))

    def renew(self, subscription_id: str) -> Signed:
        """A new period is paid: ``invoice.paid``."""
        with self.lock:
            item = self.subscriptions[subscription_id]["items"]["data"][0]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += MONTH_SECONDS
            invoice = {
                "id": self._id("in"),
                "object": "invoice",
                "status": "paid",
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": subscription_id},
                },
            }
            return self.signed("invoice.paid", invoice)

    def set_status(
        self, subscription_id: str, status: str, *, period_end: int | None = None
    ) -> Signed:
        """The subscription changes (``past_due``, ``canceled``): its event."""
        with self.lock:
            subscription = self.subscriptions[subscription_id]
            subscription["status"] = status
            if period_end is not None:
                subscription["items"]["data"][0]["current_period_end"] = period_end
            kind = "deleted" if status == "canceled" else "updated"
            return self.signed(f"customer.subscription.{kind}", dict(subscription))


YOOKASSA_SHOP = "123456"
YOOKASSA_SECRET = "test_yookassa_secret"


class YooKassaDouble(_Server):
    """``/v3/payments`` and ``/v3/refunds`` as YooKassa documents them, in test mode."""

    def __init__(self) -> None:
        super().__init__()
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, Any]] = {}
        self.delay = 0.0
        self.saving: set[str] = set()
        """Payments created with ``save_payment_method: true``, not paid yet."""
        self.methods: dict[str, dict[str, Any]] = {}
        """Saved payment methods by id (``save_payment_method`` on a paid payment)."""
        self.decline = False
        """The next charges of a saved method are declined (insufficient funds)."""

    def route(self, method: str, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if self.delay:
            time.sleep(self.delay)
        body = json.loads(raw) if raw else None
        parts = urlsplit(path).path.strip("/").split("/")
        with self.lock:
            self.requests.append(Recorded(method, urlsplit(path).path, body, headers))
            expected = base64.b64encode(f"{YOOKASSA_SHOP}:{YOOKASSA_SECRET}".encode()).decode()
            if headers.get("authorization") != f"Basic {expected}":
                return 401, {"type": "error", "code": "invalid_credentials"}
            key = headers.get("idempotence-key")
            if method == "POST" and key and key in self.idempotent:
                return self.idempotent[key]
            answer = self._dispatch(method, parts[1:], body)
            if method == "POST" and key:
                self.idempotent[key] = answer
            return answer

    @staticmethod
    def _missing() -> tuple[int, Any]:
        return 404, {"type": "error", "code": "not_found", "description": "not found"}

    def _dispatch(  # noqa: PLR0911 - one return per route, as a router reads
        self, method: str, path: list[str], body: Any
    ) -> tuple[int, Any]:
        match method, path:
            case "POST", ["payments"] if "payment_method_id" in body:
                return self._charge_saved(body)
            case "POST", ["payments"]:
                payment_id = str(uuid.uuid4())
                self.payments[payment_id] = {
                    "id": payment_id,
                    "status": "pending",
                    "paid": False,
                    "amount": body["amount"],
                    "description": body.get("description"),
                    "recipient": {"account_id": YOOKASSA_SHOP, "gateway_id": "1"},
                    "created_at": "2026-12-07T14:00:00.000Z",
                    "confirmation": {
                        "type": "redirect",
                        "return_url": body["confirmation"]["return_url"],
                        "confirmation_url": f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={payment_id}",
                    },
                    "test": True,
                    "refundable": False,
                    "metadata": body.get("metadata", {}),
                }
                if body.get("save_payment_method"):
                    self.saving.add(payment_id)
                return 200, self.payments[payment_id]
            case "GET", ["payments", found]:
                return (200, self.payments[found]) if found in self.payments else self._missing()
            case "POST", ["refunds"]:
                payment = self.payments.get(body["payment_id"])
                if payment is None:
                    return self._missing()
                refund_id = str(uuid.uuid4())
                done = float(payment.get("refunded_amount", {}).get("value", "0"))
                total = done + float(body["amount"]["value"])
                payment["refunded_amount"] = {
                    "value": f"{total:.2f}",
                    "currency": body["amount"]["currency"],
                }
                self.refunds[refund_id] = {
                    "id": refund_id,
                    "payment_id": payment["id"],
                    "status": "succeeded",
                    "created_at": "2026-12-07T14:00:00.000Z",
                    "amount": body["amount"],
                }
                return 200, self.refunds[refund_id]
            case "GET", ["refunds", found]:
                return (200, self.refunds[found]) if found in self.refunds else self._missing()
        return self._missing()

    def _charge_saved(self, body: dict[str, Any]) -> tuple[int, Any]:
        """A recurring payment: no confirmation, settled at once (``succeeded``, or
        ``canceled`` with ``cancellation_details`` when the card is declined)."""
        method = self.methods.get(body["payment_method_id"])
        if method is None:
            return 400, {
                "type": "error",
                "code": "invalid_request",
                "parameter": "payment_method_id",
                "description": "Payment method is not saved",
            }
        payment_id = str(uuid.uuid4())
        paid = not self.decline
        self.payments[payment_id] = {
            "id": payment_id,
            "status": "succeeded" if paid else "canceled",
            "paid": paid,
            "amount": body["amount"],
            "description": body.get("description"),
            "recipient": {"account_id": YOOKASSA_SHOP, "gateway_id": "1"},
            "created_at": "2026-12-07T14:00:00.000Z",
            "payment_method": method,
            "test": True,
            "refundable": paid,
            "metadata": body.get("metadata", {}),
        }
        if not paid:
            self.payments[payment_id]["cancellation_details"] = {
                "party": "payment_network",
                "reason": "insufficient_funds",
            }
        return 200, self.payments[payment_id]

    # -- the buyer and YooKassa's side ----------------------------------------------------

    def settle(self, payment_id: str, status: str, *, value: str | None = None) -> bytes:
        """The buyer pays (``succeeded``) or gives up (``canceled``): the notification."""
        with self.lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            payment["paid"] = status == "succeeded"
            payment["refundable"] = status == "succeeded"
            if value is not None:
                payment["amount"] = {**payment["amount"], "value": value}
            if status == "succeeded":
                method_id = str(uuid.uuid4())
                saved = payment_id in self.saving
                self.saving.discard(payment_id)
                method = {
                    "type": "bank_card",
                    "id": method_id,
                    "saved": saved,
                    "card": {"first6": "555555", "last4": "4444", "card_type": "MasterCard"},
                }
                payment["payment_method"] = method
                if saved:
                    self.methods[method_id] = method
            event = "payment.succeeded" if status == "succeeded" else "payment.canceled"
            return self.notification(event, payment)

    @staticmethod
    def notification(event: str, obj: dict[str, Any]) -> bytes:
        return json.dumps({"type": "notification", "event": event, "object": obj}).encode()
