"""Reading and changing a learner's preferences. Services never commit."""

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.models import User
from syllabus.preferences import repository
from syllabus.preferences.schemas import DEFAULTS, PreferencesPublic, PreferencesUpdate


async def preferences(*, session: AsyncSession, user: User) -> PreferencesPublic:
    row = await repository.get(session, user.id)
    return DEFAULTS if row is None else PreferencesPublic.model_validate(row)


async def update(
    *, session: AsyncSession, user: User, data: PreferencesUpdate
) -> PreferencesPublic:
    changes = data.changes()
    current = await preferences(session=session, user=user)
    merged = current.model_copy(update=changes)
    await repository.save(session, user_id=user.id, values=merged.model_dump())
    return merged
