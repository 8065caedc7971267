"""HTTP for commerce: plans, checkout, my payments and subscriptions, the providers'
webhooks, the sandbox's payment page, and the admins' payments and refunds.

The webhooks and the sandbox page are not for API clients (DECISIONS 16): they are
left out of the OpenAPI document (``include_in_schema=False``)."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from syllabus.commerce import checkout as checkouts
from syllabus.commerce import plans, repository, service, settle
from syllabus.commerce.deps import ProvidersDep
from syllabus.commerce.models import Payment, PaymentStatus, Provider
from syllabus.commerce.providers.sandbox import SandboxProvider
from syllabus.commerce.sandbox_page import PAGE_CSP, page
from syllabus.commerce.schemas import (
    AdminPaymentPublic,
    CheckoutCreate,
    CheckoutPublic,
    PaymentPublic,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    RefundCreate,
    SubscriptionPublic,
)
from syllabus.deps import ReadSessionDep, SessionDep, SettingsDep
from syllabus.errors import NotFound, problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome
from syllabus.identity.deps import AdminUser, CurrentUser
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.pagination import Page, Paging, code_key, uuid_key

router = APIRouter(tags=["commerce"], responses=problem_responses(422))

PlanCode = Annotated[str, Path(pattern=f"^{SLUG_PATTERN}$", max_length=120)]


@router.get("/plans", summary="Subscription plans on sale, by code (anyone; keyset pages)")
async def plans_list(session: ReadSessionDep, paging: Paging) -> Page[PlanPublic]:
    items = await plans.plans(session=session, after=paging.after(code_key), limit=paging.limit)
    return paging.page(items, key=lambda plan: [plan.code])


@router.post(
    "/admin/plans",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanPublic,
    tags=["admin"],
    responses=problem_responses(401, 403, 409),
    summary="Define a subscription plan (admins)",
)
async def admin_plans_create(
    data: PlanCreate,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def run() -> Outcome:
        plan = await plans.create_plan(session=session, data=data)
        return Outcome.of(plan.model_dump(mode="json"), status=status.HTTP_201_CREATED)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=admin.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.patch(
    "/admin/plans/{code}",
    tags=["admin"],
    responses=problem_responses(401, 403, 404),
    summary="Retitle or reprice a plan (admins; payments keep the price they were made at)",
)
async def admin_plans_update(
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
async def admin_plans_retire(code: PlanCode, _admin: AdminUser, session: SessionDep) -> None:
    await plans.retire_plan(session=session, code=code)


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckoutPublic,
    responses=problem_responses(401, 404, 409, 503),
    summary="Buy a course or subscribe to a plan: a pending payment and the page to pay on",
)
async def checkout_create(
    data: CheckoutCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def run() -> Outcome:
        opened = await checkouts.checkout(
            session=session, providers=providers, settings=settings, user=user, data=data
        )
        return Outcome.of(opened.model_dump(mode="json"), status=status.HTTP_201_CREATED)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.get(
    "/users/me/payments",
    tags=["me"],
    responses=problem_responses(401),
    summary="My payments, newest first",
)
async def me_payments(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[PaymentPublic]:
    items = await service.my_payments(
        session=session, user=user, after=paging.after(uuid_key), limit=paging.limit
    )
    return paging.page(items, key=lambda p: [str(p.id)])


@router.get(
    "/payments/{payment_id}",
    tags=["me"],
    responses=problem_responses(401, 404),
    summary="One of my payments",
)
async def payments_get(
    payment_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> PaymentPublic:
    return await service.my_payment(session=session, user=user, payment_id=payment_id)


@router.get(
    "/users/me/subscriptions",
    tags=["me"],
    responses=problem_responses(401),
    summary="My subscriptions, newest first",
)
async def me_subscriptions(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[SubscriptionPublic]:
    items = await service.my_subscriptions(
        session=session, user=user, after=paging.after(uuid_key), limit=paging.limit
    )
    return paging.page(items, key=lambda s: [str(s.id)])


@router.post(
    "/users/me/subscriptions/{subscription_id}/cancel",
    response_model=SubscriptionPublic,
    tags=["me"],
    responses=problem_responses(401, 404, 409, 503),
    summary="Cancel one of my subscriptions at the end of its period",
)
async def me_subscriptions_cancel(
    subscription_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    providers: ProvidersDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def run() -> Outcome:
        cancelled = await service.cancel_subscription(
            session=session, providers=providers, user=user, subscription_id=subscription_id
        )
        return Outcome.of(cancelled.model_dump(mode="json"))

    return await idempotency.answer_once(
        request=request, session=session, user_id=user.id, key=idempotency_key, body=None, run=run
    )


@router.get(
    "/admin/payments",
    tags=["admin"],
    responses=problem_responses(401, 403),
    summary="Every payment, newest first, filtered (admins)",
)
async def admin_payments_list(
    _admin: AdminUser,
    session: SessionDep,
    paging: Paging,
    user_id: uuid.UUID | None = None,
    payment_status: Annotated[PaymentStatus | None, Query(alias="status")] = None,
    provider: Provider | None = None,
    flagged: bool | None = None,
) -> Page[AdminPaymentPublic]:
    items = await service.admin_payments(
        session=session,
        after=paging.after(uuid_key),
        limit=paging.limit,
        user_id=user_id,
        status=payment_status,
        provider=provider,
        flagged=flagged,
    )
    return paging.page(items, key=lambda p: [str(p.id)])


@router.post(
    "/admin/payments/{payment_id}/refund",
    response_model=AdminPaymentPublic,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 503),
    summary="Refund a payment through its provider, in full or in part (admins)",
)
async def admin_payments_refund(
    payment_id: uuid.UUID,
    data: RefundCreate,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    providers: ProvidersDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """With an Idempotency-Key, a retried refund is answered as the first was, and is
    not asked of the provider twice."""

    async def run() -> Outcome:
        refunded = await service.refund(
            session=session,
            providers=providers,
            admin=admin,
            payment_id=payment_id,
            amount_minor=data.amount_minor,
        )
        return Outcome.of(refunded.model_dump(mode="json"))

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=admin.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.post("/webhooks/{provider}", include_in_schema=False)
async def webhooks_receive(
    provider: Provider, request: Request, session: SessionDep, providers: ProvidersDep
) -> Response:
    """A provider's notification: 200 once acted on (or known already), 400 when it
    does not verify, 404 for a provider not configured here."""
    offered = providers.get(provider)
    if offered is None:
        raise NotFound(f"no {provider} webhook here")
    await settle.receive(
        session=session,
        provider=offered,
        body=await request.body(),
        headers=request.headers,
        client=request.client.host if request.client else None,
    )
    return Response(status_code=status.HTTP_200_OK)


async def _sandbox_payment(
    providers: ProvidersDep, session: SessionDep, payment_id: uuid.UUID, token: str
) -> tuple[SandboxProvider, Payment]:
    """The sandbox and one of its payments, for a holder of the page's signed link
    (any other reads like no page at all: 404)."""
    sandbox = providers.get("sandbox")
    payment = await repository.get_payment(session, payment_id)
    if (
        not isinstance(sandbox, SandboxProvider)
        or payment is None
        or payment.provider != "sandbox"
        or not sandbox.page_token_ok(payment_id, token)
    ):
        raise NotFound("no such sandbox payment page")
    return sandbox, payment


@router.get("/sandbox/payments/{payment_id}", include_in_schema=False)
async def sandbox_page_get(
    payment_id: uuid.UUID,
    session: SessionDep,
    providers: ProvidersDep,
    token: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    _, payment = await _sandbox_payment(providers, session, payment_id, token)
    names = await repository.item_names(session, [payment])
    title = names.get(payment.course_id or payment.plan_id or payment.id, "")
    return HTMLResponse(
        page(payment=payment, title=title, token=token),
        headers={"Content-Security-Policy": PAGE_CSP},
    )


@router.post("/sandbox/payments/{payment_id}", include_in_schema=False)
async def sandbox_page_answer(
    payment_id: uuid.UUID,
    session: SessionDep,
    providers: ProvidersDep,
    token: Annotated[str, Form(max_length=128)],
    action: Annotated[Literal["pay", "decline"], Form()],
) -> HTMLResponse:
    """The buyer's answer, sent through the webhook machinery like any provider's."""
    sandbox, payment = await _sandbox_payment(providers, session, payment_id, token)
    if payment.status == "pending":
        delivery = sandbox.buyer_decided(
            payment_id=payment.id,
            action=action,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        )
        await settle.receive(
            session=session,
            provider=sandbox,
            body=delivery.body,
            headers=delivery.headers,
            client=None,
        )
        await session.refresh(payment)
    names = await repository.item_names(session, [payment])
    title = names.get(payment.course_id or payment.plan_id or payment.id, "")
    return HTMLResponse(
        page(payment=payment, title=title, token=token),
        headers={"Content-Security-Policy": PAGE_CSP},
    )
