"""Checkout: a pending payment that snapshots the price, and the provider's page to pay
it on. One pending payment per learner and thing bought: a second checkout (parallel or
later) answers the same payment, unless it asks for another provider, which replaces
the abandoned one."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import service as access
from syllabus.catalog import service as catalog
from syllabus.commerce import repository
from syllabus.commerce.models import Payment
from syllabus.commerce.providers.base import Order, Provider
from syllabus.commerce.schemas import CheckoutCreate, CheckoutPublic
from syllabus.config import Settings
from syllabus.errors import Conflict, UnprocessableContent
from syllabus.identity.models import User
from syllabus.learning.service import CourseClosed


class ProviderNotOffered(UnprocessableContent):
    """A checkout named a payment provider this deployment does not offer (not
    configured, or the sandbox outside dev and tests); ``offered`` lists those it does."""

    title = "Provider not offered"
    code = "provider-not-offered"


class ReturnUrlRefused(UnprocessableContent):
    """A checkout's ``return_url`` is not an absolute http(s) URL on one of the allowed
    origins (``SYLLABUS_PAYMENT_RETURN_ORIGINS``)."""

    title = "Return URL refused"
    code = "return-url-refused"


class UnknownPlan(UnprocessableContent):
    """A checkout named a plan code that is not on sale (unknown or retired)."""

    title = "Unknown plan"
    code = "unknown-plan"


class AlreadyEntitled(Conflict):
    """A checkout of a course the learner may open already (bought, granted or covered
    by a subscription), or of a plan they hold a live subscription to."""

    title = "Already entitled"
    code = "already-entitled"


@dataclass(frozen=True)
class Item:
    """What is being bought, priced now: the payment keeps this snapshot."""

    payment: Payment
    title: str
    period: str | None


def _check_return_url(url: str, origins: list[str]) -> None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.scheme not in ("http", "https") or origin not in [o.lower() for o in origins]:
        message = f"must start with one of: {', '.join(origins)}"
        raise ReturnUrlRefused(
            f"return_url {message}",
            field="return_url",
            errors=[
                {"field": "return_url", "in": "body", "message": message, "type": "value_error"}
            ],
        )


async def _item(*, session: AsyncSession, user: User, data: CheckoutCreate, provider: str) -> Item:
    if data.course_id is not None:
        course = await catalog.visible_course(
            session=session, viewer=user, course_ref=data.course_id
        )
        if course.course.status != "published":
            raise CourseClosed(f"{data.course_id} is not on sale", field="course_id")
        if not access.is_paid(course):
            raise access.CourseIsFree(f"{data.course_id} is free: enroll", field="course_id")
        if await access.holds(session=session, user_id=user.id, course=data.course_id):
            raise AlreadyEntitled(f"you may open {data.course_id} already", field="course_id")
        price = course.course.price_cents
        assert price is not None
        payment = Payment(
            user_id=user.id,
            provider=provider,
            course_id=course.course.id,
            amount_minor=price,
            currency=course.course.currency,
        )
        return Item(payment, course.course.title, None)
    assert data.plan_code is not None
    found = await repository.get_plan(session, data.plan_code)
    if found is None:
        raise UnknownPlan(f"no plan {data.plan_code} on sale", field="plan_code")
    plan, _ = found
    if await repository.live_subscription(session, user_id=user.id, plan_id=plan.id):
        raise AlreadyEntitled(f"you subscribe to {plan.code} already", field="plan_code")
    payment = Payment(
        user_id=user.id,
        provider=provider,
        plan_id=plan.id,
        amount_minor=plan.price_minor,
        currency=plan.currency,
    )
    return Item(payment, plan.title, plan.period)


def _public(payment: Payment) -> CheckoutPublic:
    return CheckoutPublic(
        payment_id=payment.id,
        provider=payment.provider,
        status=payment.status,
        confirmation_url=payment.confirmation_url,
    )


async def checkout(
    *,
    session: AsyncSession,
    providers: dict[str, Provider],
    settings: Settings,
    user: User,
    data: CheckoutCreate,
) -> CheckoutPublic:
    provider = providers.get(data.provider)
    if provider is None:
        message = f"{data.provider} is not offered here (offered: {', '.join(sorted(providers))})"
        raise ProviderNotOffered(
            message,
            field="provider",
            offered=sorted(providers),
            errors=[{"field": "provider", "in": "body", "message": message, "type": "value_error"}],
        )
    _check_return_url(data.return_url, settings.return_origins)
    item = await _item(session=session, user=user, data=data, provider=provider.name)
    payment = await repository.insert_pending(session, item.payment)
    if payment is None:
        existing = await repository.pending_for(
            session,
            user_id=user.id,
            course_id=item.payment.course_id,
            plan_id=item.payment.plan_id,
        )
        assert existing is not None  # it is committed (the insert waited for it)
        if existing.provider == provider.name:
            return _public(existing)
        existing.status = "canceled"  # abandoned for another provider
        await session.flush()
        payment = await repository.insert_pending(session, item.payment)
        assert payment is not None
    opened = await provider.open(
        Order(
            payment_id=payment.id,
            user_id=user.id,
            title=item.title,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            return_url=data.return_url,
            period=item.period,
        )
    )
    payment.provider_payment_id = opened.provider_payment_id
    payment.confirmation_url = opened.confirmation_url
    await session.flush()
    return _public(payment)
