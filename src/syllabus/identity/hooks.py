"""What identity lets higher layers react to, in the same transaction (kit/hooks.py)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.kit.hooks import Hook

account_erased: Hook[[AsyncSession, uuid.UUID]] = Hook("account_erased")
"""``DELETE /users/me``: domains holding the user's personal data (their chat messages,
their preferences) remove it here, in the erasure's transaction."""
