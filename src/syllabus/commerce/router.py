"""HTTP for commerce: plans (public list, admins define them)."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from syllabus.commerce import plans
from syllabus.commerce.schemas import PlanCreate, PlanPublic, PlanUpdate
from syllabus.deps import ReadSessionDep, SessionDep
from syllabus.errors import problem_responses
from syllabus.identity.deps import ANONYMOUS_TOO, AdminUser
from syllabus.kit.ids import SLUG_PATTERN

router = APIRouter(tags=["commerce"], responses=problem_responses(422))

PlanCode = Annotated[str, Path(pattern=f"^{SLUG_PATTERN}$", max_length=120)]


@router.get("/plans", openapi_extra=ANONYMOUS_TOO, summary="Subscription plans on sale")
async def list_plans(session: ReadSessionDep) -> list[PlanPublic]:
    return await plans.plans(session=session)


@router.post(
    "/admin/plans",
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=problem_responses(401, 403, 409),
    summary="Define a subscription plan (admins)",
)
async def create_plan(data: PlanCreate, _admin: AdminUser, session: SessionDep) -> PlanPublic:
    return await plans.create_plan(session=session, data=data)


@router.patch(
    "/admin/plans/{code}",
    tags=["admin"],
    responses=problem_responses(401, 403, 404),
    summary="Retitle or reprice a plan (admins; payments keep the price they were made at)",
)
async def update_plan(
    code: PlanCode, data: PlanUpdate, _admin: AdminUser, session: SessionDep
) -> PlanPublic:
    return await plans.update_plan(session=session, code=code, data=data)


@router.delete(
    "/admin/plans/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    responses=problem_responses(401, 403, 404),
    summary="Retire a plan (admins; running subscriptions run on)",
)
async def retire_plan(code: PlanCode, _admin: AdminUser, session: SessionDep) -> None:
    await plans.retire_plan(session=session, code=code)
