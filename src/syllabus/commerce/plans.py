"""Plans: defined by admins through the API, not as content (docs/payments.md): a price is
a business decision that changes without a content release, and a payment must keep
pointing at the plan it bought even after the plan is retired (soft delete)."""

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, exists
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import Category
from syllabus.commerce import repository
from syllabus.commerce.models import Plan
from syllabus.commerce.schemas import PlanCreate, PlanPublic, PlanUpdate
from syllabus.errors import Conflict, NotFound, UnprocessableContent


class PlanCodeTaken(Conflict):
    """Defining a plan whose code is (or was, for a retired plan) another plan's."""

    title = "Plan code taken"
    code = "plan-code-taken"


class UnknownCategory(UnprocessableContent):
    """A plan scoped to a category that does not exist; ``field`` names it."""

    title = "Unknown category"
    code = "unknown-category"


def plan_public(plan: Plan, category: str | None) -> PlanPublic:
    return PlanPublic(
        code=plan.code,
        title=plan.title,
        price_minor=plan.price_minor,
        currency=plan.currency,
        period=plan.period,
        category=category,
    )


async def plans(*, session: AsyncSession, after: str | None, limit: int) -> list[PlanPublic]:
    """Live plans by code, ``limit + 1`` of them (the caller pages)."""
    rows = await repository.list_plans(session, after=after, limit=limit)
    return [plan_public(plan, slug) for plan, slug in rows]


async def plan(*, session: AsyncSession, code: str) -> tuple[Plan, str | None]:
    found = await repository.get_plan(session, code)
    if found is None:
        raise NotFound(f"no plan {code}", field="plan_code")
    return found


async def create_plan(*, session: AsyncSession, data: PlanCreate) -> PlanPublic:
    category_id = None
    if data.category is not None:
        category_id = await repository.category_id(session, data.category)
        if category_id is None:
            raise UnknownCategory(f"no category {data.category}", field="category")
    values = data.model_dump(exclude={"category"}) | {"category_id": category_id}
    created = await repository.insert_plan(session, values)
    if created is None:
        raise PlanCodeTaken(f"a plan {data.code} exists (or existed) already", field="code")
    return plan_public(created, data.category)


async def update_plan(*, session: AsyncSession, code: str, data: PlanUpdate) -> PlanPublic:
    found, category = await plan(session=session, code=code)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(found, field, value)
    await session.flush()
    return plan_public(found, category)


async def retire_plan(*, session: AsyncSession, code: str) -> None:
    """No new checkouts or subscriptions; running subscriptions run on."""
    found, _ = await plan(session=session, code=code)
    found.deleted_at = datetime.now(UTC)
    await session.flush()


def names_category(source: str | None) -> ColumnElement[bool]:
    """A category stays through ``content load --prune`` while a live plan is scoped to
    it: the plan would otherwise read as opening every paid course (registered on
    ``content.sources.owned_tables`` by ``main.wire``)."""
    return exists().where(col(Plan.category_id) == col(Category.id), col(Plan.deleted_at).is_(None))
