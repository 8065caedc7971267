"""Access rules: may this user open this paid thing now? Services never commit.

Today: a free course is open to everyone; a paid one to staff and to learners with a
live (active or completed) enrollment; enrolling in a paid course needs a purchase.
Taking a quiz needs a live enrollment in its course, free or paid.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import repository
from syllabus.catalog.repository import CourseRow
from syllabus.errors import Forbidden, Unauthorized
from syllabus.identity.deps import BEARER
from syllabus.identity.models import User, is_staff


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
        session, user_id=user.id, course_id=course.course.id
    )


async def require_open(
    *, session: AsyncSession, viewer: User | None, course: CourseRow, what: str
) -> None:
    """:func:`may_open`, or the refusal: 401 to sign in, 403 to enroll."""
    if await may_open(session=session, user=viewer, course=course):
        return
    if viewer is None:
        raise Unauthorized(f"sign in to open this {what}", headers=BEARER)
    raise Forbidden(f"this {what} is part of a paid course: enroll first")


async def require_enrollment(*, session: AsyncSession, user: User, course: CourseRow) -> None:
    """Quiz attempts are for learners enrolled in the quiz's course (403 otherwise)."""
    if not await repository.has_live_enrollment(
        session, user_id=user.id, course_id=course.course.id
    ):
        raise Forbidden(f"enroll in {course.course.content_id} to take its quizzes")
