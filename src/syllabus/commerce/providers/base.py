"""What every provider does, in the words of this package (not the provider's)."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from syllabus.errors import BadRequest, ServiceUnavailable

Outcome = Literal["succeeded", "failed", "canceled"]


class NotificationRefused(BadRequest):
    """A webhook whose signature does not verify (or is missing or too old), or that came
    from an address the provider does not send from: nothing was recorded."""

    title = "Notification refused"
    code = "notification-refused"


class ProviderUnavailable(ServiceUnavailable):
    """The payment provider did not answer in time or answered with an error; nothing was
    changed here. Retry later."""

    title = "Payment provider unavailable"
    code = "provider-unavailable"


class NotYet(Exception):
    """The provider's API does not (yet) confirm what a notification claims: nothing is
    done, and the stored notification stays unprocessed, so a later delivery of it acts
    once the API agrees."""


@dataclass(frozen=True)
class Order:
    """A checkout to open at the provider: what, for how much, and where to come back."""

    payment_id: uuid.UUID
    user_id: uuid.UUID
    title: str
    amount_minor: int
    currency: str
    return_url: str
    period: str | None = None
    """A plan's billing period: the provider bills it again each period if it can."""


@dataclass(frozen=True)
class Opened:
    provider_payment_id: str
    confirmation_url: str


@dataclass(frozen=True)
class PaymentReport:
    """What the provider says about one of our payments (ours: ``payment_id``)."""

    payment_id: uuid.UUID
    outcome: Outcome | None = None
    amount_minor: int | None = None
    currency: str | None = None
    refunded_minor: int | None = None
    """Refunded so far, in all (providers report the running total)."""
    payment_method_id: str | None = None
    """A payment method the provider saved for charging again (YooKassa)."""


@dataclass(frozen=True)
class SubscriptionReport:
    """A provider-billed subscription's state as the provider holds it now."""

    provider_subscription_id: str
    payment_id: uuid.UUID
    """The checkout that started it (carried in the subscription's metadata)."""
    status: Literal["active", "past_due", "canceled", "expired"]
    current_period_end: datetime
    cancel_at_period_end: bool


Report = PaymentReport | SubscriptionReport


@dataclass(frozen=True)
class Delivery:
    """A signed notification, ready for the webhook machinery."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Notification:
    """A verified notification: kept as received, unique by (provider, event id)."""

    event_id: str
    type: str
    payload: dict[str, Any] = field(repr=False)


class Provider(Protocol):
    name: str
    recurring: bool
    """Bills a plan again every period by itself (else a plan's payment buys one period)."""

    async def open(self, order: Order) -> Opened: ...

    async def verify(
        self, *, body: bytes, headers: Mapping[str, str], client: str | None
    ) -> Notification:
        """The notification, or :class:`NotificationRefused`."""
        ...

    async def reports(self, notification: Notification) -> list[Report]:
        """What a verified notification means, asking the provider again where its
        documentation says to (YooKassa) or where the event alone does not say."""
        ...

    async def payment_reports(
        self, *, payment_id: uuid.UUID, provider_payment_id: str
    ) -> list[Report]:
        """The payment's state at the provider now, and that of the subscription it
        started if the provider bills one (reconciliation). A provider that keeps no
        state of its own answers a report that says nothing (no amount)."""
        ...

    async def subscription_reports(self, provider_subscription_id: str) -> list[Report]:
        """A provider-billed subscription as the provider holds it now (reconciliation);
        nothing for a prepaid period, which the provider does not hold."""
        ...

    async def abandon(self, provider_payment_id: str) -> bool:
        """Close an unpaid checkout at the provider so it can no longer be paid; False
        when the provider offers no way to (it expires by itself there)."""
        ...

    async def cancel_now(self, provider_subscription_id: str) -> None:
        """End a provider-billed subscription at once: nothing is billed again."""
        ...

    async def refund(
        self, *, provider_payment_id: str, amount_minor: int, total_after: int, currency: str
    ) -> "Delivery | None":
        """Ask the provider to refund ``amount_minor`` (``total_after`` refunded in all,
        which also keys the request, so a retry is the same refund). It takes effect
        when its notification arrives, like a payment; a provider that answers at once
        returns that notification."""
        ...

    async def cancel_at_period_end(self, provider_subscription_id: str) -> None: ...


class Recurring(Provider, Protocol):
    """A provider that charges a saved payment method on our request (YooKassa)."""

    name: str

    async def charge(
        self, *, order: Order, payment_method_id: str, key: str
    ) -> tuple[str, PaymentReport]:
        """Charge the saved method without the buyer (``key`` makes a retry the same
        charge): the provider's payment id and what it says now."""
        ...
