"""Access rules: may this user open this paid thing now? Services never commit.

Today: a free course is open to everyone; a paid one to staff and to learners with a
live (active or completed) enrollment; enrolling in a paid course needs a purchase.
Taking a quiz needs a live enrollment in its course, free or paid.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import repository
from syllabus.catalog.repository import CourseRow
from syllabus.errors import Forbidden, PaymentRequired
from syllabus.identity.deps import BEARER
from syllabus.identity.models import User, is_staff
from syllabus.identity.service import SignInRequired


class EnrollmentRequired(Forbidden):
    """The lesson, quiz or attempt belongs to a course the caller is not (or no longer)
    enrolled in, and it needs an enrollment: a paid course's lessons, any quiz, saving
    progress."""

    title = "Enrollment required"
    code = "enrollment-required"


class PurchaseRequired(PaymentRequired):
    """Enrolling in a priced course that has not been bought; ``price_cents`` says how
    much it costs."""

    title = "Payment required"
    code = "payment-required"


def enrollment_needs_payment(course: CourseRow) -> bool:
    """Whether enrolling costs money. Payments will answer "has this user paid?" here;
    until then every priced course needs a purchase (or an admin enrolling)."""
    return bool(course.course.price_cents)


async def may_open(*, session: AsyncSession, user: User | None, course: CourseRow) -> bool:
    """May ``user`` open every lesson and quiz of ``course``? Free courses: anyone. Paid:
    staff, or an active or completed enrollment."""
    if not course.course.price_cents:
        return True
    if user is None:
        return False
    if is_staff(user):
        return True
    return await repository.has_live_enrollment(
        session, user_id=user.id, course=course.course.content_id
    )


async def require_open(
    *, session: AsyncSession, viewer: User | None, course: CourseRow, what: str
) -> None:
    """:func:`may_open`, or the refusal: 401 to sign in, 403 to enroll."""
    if await may_open(session=session, user=viewer, course=course):
        return
    if viewer is None:
        raise SignInRequired(f"sign in to open this {what}", headers=BEARER)
    raise EnrollmentRequired(f"this {what} is part of a paid course: enroll first")


async def require_enrollment(*, session: AsyncSession, user: User, course: str) -> None:
    """Quiz attempts are for learners enrolled in the quiz's course (its content id),
    free or paid: asked when an attempt starts and again by every route that uses one,
    so an attempt closes with its enrollment (403 otherwise)."""
    if not await repository.has_live_enrollment(session, user_id=user.id, course=course):
        raise EnrollmentRequired(f"enroll in {course} to take its quizzes")
