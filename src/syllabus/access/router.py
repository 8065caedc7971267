"""HTTP for entitlements: mine, and admins' grants and revocations."""

import uuid

from fastapi import APIRouter, Request, Response, status

from syllabus.access import service
from syllabus.access.schemas import EntitlementGrant, EntitlementPublic
from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome
from syllabus.identity.deps import AdminUser, CurrentUser
from syllabus.kit.pagination import Page, Paging, uuid_key

router = APIRouter(tags=["access"], responses=problem_responses(401, 422))


@router.get(
    "/users/me/entitlements",
    tags=["me"],
    summary="What I may open: my entitlements, current or not (keyset pages)",
)
async def me_entitlements(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[EntitlementPublic]:
    items = await service.entitlements_of(
        session=session, user_id=user.id, after=paging.after(uuid_key), limit=paging.limit
    )
    return paging.page(items, key=lambda e: [str(e.id)])


@router.post(
    "/admin/entitlements",
    status_code=status.HTTP_201_CREATED,
    response_model=EntitlementPublic,
    tags=["admin"],
    responses=problem_responses(403, 404, 409),
    summary="Grant a learner a paid course (admins; recorded in the activity log)",
)
async def admin_entitlements_create(
    data: EntitlementGrant,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def run() -> Outcome:
        granted = await service.admin_grant(
            session=session, admin=admin, user_id=data.user_id, course_ref=data.course_id
        )
        return Outcome.of(granted.model_dump(mode="json"), status=status.HTTP_201_CREATED)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=admin.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.delete(
    "/admin/entitlements/{entitlement_id}",
    tags=["admin"],
    responses=problem_responses(403, 404, 409),
    summary="Revoke an entitlement (admins; recorded in the activity log)",
)
async def admin_entitlements_revoke(
    entitlement_id: uuid.UUID, admin: AdminUser, session: SessionDep
) -> EntitlementPublic:
    return await service.revoke(session=session, admin=admin, entitlement_id=entitlement_id)
