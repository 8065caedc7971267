"""HTTP for study plans: make one, list mine, read one (any version), regenerate."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from syllabus.access.service import EnrollmentRequired
from syllabus.deps import SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.identity.deps import CurrentUser
from syllabus.kit.pagination import Page, Paging, uuid_key
from syllabus.studyplans import service
from syllabus.studyplans.schemas import (
    StudyPlanCreate,
    StudyPlanPublic,
    StudyPlanRegenerate,
    StudyPlanSummary,
)

router = APIRouter(tags=["study plans"], responses=problem_responses(401, 422))
REFUSALS = problem_responses(
    EnrollmentRequired, NotFound, service.NothingToPlan, service.PlanDoesNotFit
)


@router.post(
    "/users/me/study-plans",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="Plan my remaining work in a course, or for an exam, up to a target date",
)
async def study_plans_create(
    data: StudyPlanCreate, user: CurrentUser, session: SessionDep
) -> StudyPlanPublic:
    return await service.create(session=session, user=user, data=data)


@router.get("/users/me/study-plans", summary="My study plans, each at its latest version")
async def study_plans_list(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[StudyPlanSummary]:
    rows = await service.my_plans(
        session=session, user=user, after=paging.after(uuid_key), limit=paging.limit
    )
    return paging.page(rows, key=lambda row: [str(row.id)])


@router.get(
    "/users/me/study-plans/{study_plan_id}",
    responses=problem_responses(404),
    summary="One of my study plans with its dated items, done or not by my progress",
)
async def study_plans_get(
    study_plan_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[
        int | None, Query(ge=1, le=32767, description="A version to read; the latest if absent.")
    ] = None,
) -> StudyPlanPublic:
    return await service.get(session=session, user=user, plan_id=study_plan_id, version=version)


@router.post(
    "/users/me/study-plans/{study_plan_id}/regenerate",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
    summary="A new version of my plan from what is left now; older versions are kept",
)
async def study_plans_regenerate(
    study_plan_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    data: StudyPlanRegenerate,
) -> StudyPlanPublic:
    """``{}`` keeps the latest version's target date and minutes per day."""
    return await service.regenerate(session=session, user=user, plan_id=study_plan_id, data=data)
