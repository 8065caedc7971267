"""Payment providers behind one interface: each turns an order into a page where the
buyer pays, a notification into verified reports, and an admin's refund into a call.
Stripe and YooKassa through their official SDKs; the sandbox for dev and tests."""
