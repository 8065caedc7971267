"""Commerce as the API shows it. Money is minor units and an ISO 4217 code."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from syllabus.commerce.models import PaymentStatus, PlanPeriod, Provider, SubscriptionStatus
from syllabus.kit.ids import CourseId, Slug
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.kit.standards import CurrencyCode

MinorUnits = Annotated[int, Field(gt=0, le=100_000_000, description="Minor units (cents).")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class PlanPublic(OutputSchema):
    code: str
    title: str
    price_minor: int
    currency: str
    period: PlanPeriod
    category: str | None = Field(
        description="The category whose paid courses it opens; null: every paid course."
    )


class PlanCreate(InputSchema):
    code: Slug
    title: Title
    price_minor: MinorUnits
    currency: CurrencyCode
    period: PlanPeriod
    category: Slug | None = None


class PlanUpdate(InputSchema):
    """A new title or price applies to checkouts from now on; payments keep theirs."""

    title: Title | None = None
    price_minor: MinorUnits | None = None


class CheckoutCreate(InputSchema):
    """Buy one course (``course_id``) or subscribe to one plan (``plan_code``)."""

    # The rule of ``_one_item``, stated in the OpenAPI so clients (and the fuzzer) know it.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["course_id"],
                    "properties": {"course_id": {"type": "string"}, "plan_code": {"type": "null"}},
                },
                {
                    "required": ["plan_code"],
                    "properties": {"plan_code": {"type": "string"}, "course_id": {"type": "null"}},
                },
            ]
        }
    )

    course_id: CourseId | None = None
    plan_code: Slug | None = None
    provider: Provider
    return_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Where the provider sends the buyer back (an allowed origin)."
    )

    @model_validator(mode="after")
    def _one_item(self) -> "CheckoutCreate":
        if (self.course_id is None) == (self.plan_code is None):
            raise ValueError("give exactly one of course_id and plan_code")
        return self


class CheckoutPublic(OutputSchema):
    payment_id: uuid.UUID
    provider: Provider
    status: PaymentStatus
    confirmation_url: str | None


class PaymentPublic(OutputSchema):
    id: uuid.UUID
    provider: Provider
    course_id: str | None
    plan_code: str | None
    amount_minor: int
    currency: str
    status: PaymentStatus
    refunded_minor: int
    created_at: datetime
    paid_at: datetime | None


class AdminPaymentPublic(PaymentPublic):
    user_id: uuid.UUID
    provider_payment_id: str | None
    flag: str | None


class RefundCreate(InputSchema):
    amount_minor: MinorUnits | None = Field(
        default=None, description="Part of the payment to refund; omitted: all that is left."
    )


class SubscriptionPublic(OutputSchema):
    id: uuid.UUID
    plan_code: str
    provider: Provider
    status: SubscriptionStatus
    current_period_end: datetime
    cancel_at_period_end: bool
