"""HTTP for a learner's record: my streaks, points and level, and achievements."""

import uuid

from fastapi import APIRouter, status

from syllabus.deps import SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import SIGNED_IN_PROBLEMS, CurrentUser
from syllabus.kit.pagination import Page, Paging, code_key, key_datetime
from syllabus.progress import service
from syllabus.progress.repository import AwardKey
from syllabus.progress.schemas import AchievementPublic, Stats, UserAchievementPublic

router = APIRouter(tags=["progress"], responses=problem_responses(*SIGNED_IN_PROBLEMS))


@router.get("/users/me/stats", tags=["me"], summary="Streaks, points and level")
async def me_stats(user: CurrentUser, session: SessionDep) -> Stats:
    return await service.stats(session=session, user=user)


def _award_key(key: list[object]) -> AwardKey:
    awarded_at, award_id = key
    return key_datetime(awarded_at), uuid.UUID(str(award_id))


@router.get("/achievements", tags=["achievements"], summary="Achievements, by code (keyset pages)")
async def achievements_list(session: SessionDep, paging: Paging) -> Page[AchievementPublic]:
    rows = await service.achievements(
        session=session, after=paging.after(code_key), limit=paging.limit
    )
    return paging.page(rows, key=lambda row: [row.code])


@router.get(
    "/users/me/achievements",
    tags=["achievements", "me"],
    summary="My achievements, in the order earned (keyset pages)",
)
async def me_achievements(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[UserAchievementPublic]:
    rows = await service.my_achievements(
        session=session, user=user, after=paging.after(_award_key), limit=paging.limit
    )
    page = paging.page(rows, key=lambda row: [row[0][0], str(row[0][1])])
    return page.map(lambda row: row[1])


@router.post(
    "/users/me/achievements/{achievement_id}/seen",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["achievements", "me"],
    responses=problem_responses(NotFound),
    summary="Mark one of my achievements as seen",
)
async def me_achievements_seen(
    achievement_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> None:
    await service.mark_seen(session=session, user=user, achievement_id=achievement_id)
