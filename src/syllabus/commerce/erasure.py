"""What erasing an account (``DELETE /users/me``) does to its payments, in the erasure's
transaction (``identity.hooks.account_erased``; docs/payments.md says why).

Nothing more is taken from or given to the account: its pending checkouts are cancelled
and its running subscriptions end now, their entitlements with them; a payment that
succeeds afterwards grants nothing and is flagged for a refund (``settle``). The
providers are told by ``syllabus payments reconcile --fix``, which closes a checkout
still open there and cancels a subscription still billed there: erasure does not depend
on a provider answering, and a provider that is down is told on the next run.

What accounting needs stays: payments, subscriptions and entitlements (amounts,
currencies, dates, provider ids, what was bought), pointing at an account without name,
email or password. The providers' notifications about the account are kept for the same
reason, without the buyer's personal details (name, email, phone, address, card)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.commerce import repository, settle
from syllabus.commerce.personal import links, redact


async def erase(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``identity.hooks.account_erased``."""
    for payment in await repository.pending_payments_of(session, user_id=user_id):
        payment.status = "canceled"
    for subscription in await repository.live_subscriptions_of(session, user_id=user_id):
        await settle.end_subscription(session=session, subscription=subscription, status="canceled")
        subscription.payment_method_id = None  # never charged again (commerce.renew)
    references = await repository.references_of(session, user_id=user_id)
    events = await repository.events_mentioning(session, references)
    linked = set().union(*(links(event.payload) for event in events)) - references
    seen = {event.id for event in events}
    events += [e for e in await repository.events_mentioning(session, linked) if e.id not in seen]
    for event in events:
        event.payload = redact(event.payload)
    await session.flush()
