"""``/users/me/preferences``: read with defaults filled in; PATCH changes only what it sends."""

from fastapi import APIRouter

from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.identity.deps import SIGNED_IN_PROBLEMS, CurrentUser
from syllabus.preferences import service
from syllabus.preferences.schemas import PreferencesPublic, PreferencesUpdate

router = APIRouter(tags=["me"], responses=problem_responses(*SIGNED_IN_PROBLEMS))


@router.get("/users/me/preferences", summary="My preferences (defaults where never set)")
async def preferences_get(user: CurrentUser, session: SessionDep) -> PreferencesPublic:
    return await service.preferences(session=session, user=user)


@router.patch("/users/me/preferences", summary="Change some of my preferences")
async def preferences_update(
    data: PreferencesUpdate, user: CurrentUser, session: SessionDep
) -> PreferencesPublic:
    return await service.update(session=session, user=user, data=data)
