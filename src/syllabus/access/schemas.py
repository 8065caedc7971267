"""Entitlements as the API shows them: courses by ``course:…`` id, categories by slug."""

import uuid
from datetime import UTC, datetime

from syllabus.access.models import Entitlement, EntitlementSource
from syllabus.kit.ids import CourseId
from syllabus.kit.schemas import InputSchema, OutputSchema


class EntitlementPublic(OutputSchema):
    id: uuid.UUID
    user_id: uuid.UUID
    source: EntitlementSource
    course_id: str | None
    category: str | None
    payment_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime | None
    revoked_at: datetime | None
    current: bool

    @classmethod
    def of(cls, row: Entitlement, names: dict[uuid.UUID, str]) -> "EntitlementPublic":
        now = datetime.now(UTC)
        assert row.starts_at is not None
        return cls(
            id=row.id,
            user_id=row.user_id,
            source=row.source,
            course_id=names.get(row.course_id) if row.course_id else None,
            category=names.get(row.category_id) if row.category_id else None,
            payment_id=row.payment_id,
            subscription_id=row.subscription_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            revoked_at=row.revoked_at,
            current=row.revoked_at is None
            and row.starts_at <= now
            and (row.ends_at is None or row.ends_at > now),
        )


class EntitlementGrant(InputSchema):
    user_id: uuid.UUID
    course_id: CourseId
