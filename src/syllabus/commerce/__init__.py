"""Commerce: plans, checkouts through Stripe, YooKassa or the dev sandbox, the webhooks
that settle them, refunds and subscriptions. What a payment buys is an entitlement,
which ``access`` reads (DECISIONS 4); a purchase also enrolls (``learning``)."""
