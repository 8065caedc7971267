"""The user's payments, subscriptions and entitlements, for ``GET /users/me/export``
(courses named by their ``course:…`` id)."""

from syllabus.access.models import Entitlement
from syllabus.catalog.repository import course_content_id
from syllabus.commerce.models import Payment, Subscription
from syllabus.identity.export import export_table, not_exported

export_table("payments", Payment, ids={"course_id": course_content_id})
export_table("subscriptions", Subscription)
export_table("entitlements", Entitlement, ids={"course_id": course_content_id})
not_exported(
    "payment_events",
    "the providers' notifications as received: kept for reconciliation; what they "
    "settled is in payments and subscriptions",
)
