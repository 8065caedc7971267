"""The buyer's personal details in the providers' notifications, which an erased
account's notifications are kept without (docs/payments.md)."""

from typing import Any

PERSONAL_KEYS = frozenset(
    {
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "billing_details",
        "shipping",
        "shipping_details",
        "receipt_email",
        "payment_method",
        "payment_method_details",
        "card",
        "email",
        "name",
        "phone",
        "address",
    }
)
"""Keys of Stripe's and YooKassa's objects that describe the buyer (at any depth)."""

LINK_KEYS = frozenset({"payment_intent", "latest_charge", "charge", "invoice"})
"""Keys naming another provider object about the same payment (a charge's events name
only its PaymentIntent, for one)."""


def redact(value: Any) -> Any:
    """The payload without the buyer's personal details (each such key made null)."""
    if isinstance(value, dict):
        return {k: None if k in PERSONAL_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def links(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {v for k, v in value.items() if k in LINK_KEYS and isinstance(v, str)}
        return found.union(*(links(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(links(item) for item in value))
    return set()
