"""``/health/live`` says the process serves; ``/health/ready`` says both stores answer."""

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from syllabus.deps import MongoDatabaseDep, SettingsDep
from syllabus.errors import StoreUnavailable, problem_responses
from syllabus.health.service import StoreState, check_stores

router = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, StoreState]


@router.get("/live", summary="The process is up")
async def health_live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    summary="Both stores answer",
    responses=problem_responses(StoreUnavailable),
)
async def health_ready(
    request: Request, settings: SettingsDep, mongo: MongoDatabaseDep
) -> Readiness:
    checks = await check_stores(
        engine=request.app.state.engine,
        mongo=mongo,
        timeout_seconds=settings.health_timeout_seconds,
    )
    failing = [store for store, state in checks.items() if state != "ok"]
    if failing:
        raise StoreUnavailable(
            f"not answering: {', '.join(failing)}", checks=checks, failing=failing
        )
    return Readiness(checks=checks)
