"""Access rules: may this user open this paid thing now? Services never commit.

The one rule (DECISIONS 4): a free course is open to everyone; a paid lesson needs a
current entitlement (or staff, or a preview lesson, which ``content`` lets through);
a paid quiz and its attempts need an entitlement **and** a live enrollment. Enrolling in
a paid course needs an entitlement. Entitlements come from purchases and subscriptions
(``commerce`` writes them) and from admins (here).
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import repository
from syllabus.access.models import Entitlement
from syllabus.access.schemas import EntitlementPublic
from syllabus.catalog import service as catalog
from syllabus.catalog.repository import CourseRow
from syllabus.db.activity import record_activity
from syllabus.errors import Conflict, Forbidden, NotFound, PaymentRequired, UnprocessableContent
from syllabus.identity import service as identity
from syllabus.identity.deps import BEARER
from syllabus.identity.models import STAFF_ROLES, User, is_staff
from syllabus.identity.service import SignInRequired


class EnrollmentRequired(Forbidden):
    """The lesson, quiz or attempt belongs to a course the caller is not (or no longer)
    enrolled in, and it needs an enrollment: any quiz, saving progress."""

    title = "Enrollment required"
    code = "enrollment-required"


class EntitlementRequired(Forbidden):
    """A lesson, quiz or attempt of a paid course the caller has no current entitlement
    to (not bought, refunded, revoked, or the subscription lapsed): buy it first."""

    title = "Entitlement required"
    code = "entitlement-required"


class PurchaseRequired(PaymentRequired):
    """Enrolling in a priced course that has not been bought (nor granted, nor covered by
    a subscription); ``price_cents`` says how much it costs."""

    title = "Payment required"
    code = "payment-required"


class CourseIsFree(UnprocessableContent):
    """Granting (or buying) a free course: it needs no entitlement."""

    title = "Course is free"
    code = "course-is-free"


class AlreadyGranted(Conflict):
    """An admin grant of a course the learner holds a live admin grant for already."""

    title = "Already granted"
    code = "already-granted"


class AlreadyRevoked(Conflict):
    """Revoking an entitlement that is revoked already."""

    title = "Already revoked"
    code = "already-revoked"


def is_paid(course: CourseRow) -> bool:
    return bool(course.course.price_cents)


def opens(*, paid: bool, role: str | None, entitled: bool) -> bool:
    """The rule: a free course is open to anyone; a paid one to staff, or with a current
    entitlement."""
    return not paid or role in STAFF_ROLES or entitled


async def may_open(*, session: AsyncSession, user: User | None, course: CourseRow) -> bool:
    """May ``user`` open every lesson and quiz of ``course``? (:func:`opens`, asking for
    the entitlement only when it matters.)"""
    if opens(paid=is_paid(course), role=user.role if user else None, entitled=False):
        return True
    if user is None:
        return False
    return await repository.is_entitled(session, user_id=user.id, course=course.course.content_id)


async def may_enroll(*, session: AsyncSession, user: User, course: CourseRow) -> bool:
    """Enrolling in a paid course needs what opening it needs (a purchase creates the
    enrollment itself; a subscription lets the learner enroll)."""
    return await may_open(session=session, user=user, course=course)


def refuse_open(*, paid: bool, role: str | None, entitled: bool, what: str) -> None:
    """The rule of :func:`may_open` on facts already fetched (a hot read asks for them in
    its one query: ``repository.ENTITLED_SQL``): 401 to sign in, 403 to buy."""
    if opens(paid=paid, role=role, entitled=entitled):
        return
    if role is None:
        raise SignInRequired(f"sign in to open this {what}", headers=BEARER)
    raise EntitlementRequired(f"this {what} is part of a paid course: buy it first")


def refuse_quiz(
    *, paid: bool, role: str | None, entitled: bool, enrolled: bool, course: str
) -> None:
    """A paid course's quiz needs an entitlement and a live enrollment (DECISIONS 4);
    a free course's quiz is open to read (taking it needs an enrollment)."""
    refuse_open(paid=paid, role=role, entitled=entitled, what="quiz")
    if role is None or not paid or role in STAFF_ROLES or enrolled:
        return
    raise EnrollmentRequired(f"enroll in {course} to open its quizzes")


async def require_open(
    *, session: AsyncSession, viewer: User | None, course: CourseRow, what: str
) -> None:
    """:func:`refuse_open`, asking for the entitlement only when it matters."""
    entitled = await may_open(session=session, user=viewer, course=course)
    refuse_open(
        paid=is_paid(course), role=viewer.role if viewer else None, entitled=entitled, what=what
    )


async def require_quiz(*, session: AsyncSession, viewer: User | None, course: CourseRow) -> None:
    """:func:`refuse_quiz`, asking only for the facts that matter."""
    paid, content_id = is_paid(course), course.course.content_id
    entitled = enrolled = False
    if paid and viewer is not None and not is_staff(viewer):
        entitled = await repository.is_entitled(session, user_id=viewer.id, course=content_id)
        enrolled = entitled and await repository.has_live_enrollment(
            session, user_id=viewer.id, course=content_id
        )
    refuse_quiz(
        paid=paid,
        role=viewer.role if viewer else None,
        entitled=entitled,
        enrolled=enrolled,
        course=content_id,
    )


async def require_enrollment(*, session: AsyncSession, user: User, course: str) -> None:
    """Quiz attempts are for learners enrolled in the quiz's course (its content id),
    free or paid, and entitled when it is paid: asked when an attempt starts and again
    by every route that uses one, so an attempt closes with its enrollment or its
    entitlement (403 otherwise)."""
    if not await repository.may_take(session, user_id=user.id, course=course, staff=is_staff(user)):
        raise EnrollmentRequired(
            f"enroll in {course} (and buy it, if it is paid) to take its quizzes"
        )


async def may_study(*, session: AsyncSession, user: User, course: str) -> bool:
    """What a study plan of a course (its content id) needs: what taking its quizzes
    needs (a live enrollment; an entitlement too when it is paid, unless staff)."""
    return await repository.may_take(session, user_id=user.id, course=course, staff=is_staff(user))


async def _public(session: AsyncSession, rows: list[Entitlement]) -> list[EntitlementPublic]:
    names = await repository.names(session, rows)
    return [EntitlementPublic.of(row, names) for row in rows]


async def grant(
    *, session: AsyncSession, admin: User, user_id: uuid.UUID, course: CourseRow
) -> EntitlementPublic:
    """An admin grant of one paid course (also made by an admin enrollment): 409 when
    the learner has one already."""
    if not is_paid(course):
        raise CourseIsFree(
            f"{course.course.content_id} is free: it needs no entitlement", field="course_id"
        )
    row = await repository.insert_admin_grant(session, user_id=user_id, course_id=course.course.id)
    if row is None:
        raise AlreadyGranted("this learner has an admin grant for this course already")
    await record_activity(
        session,
        actor_id=admin.id,
        verb="granted",
        object_type="entitlement",
        object_id=str(row.id),
        course_id=course.course.id,
        result={"user_id": str(user_id)},
    )
    return (await _public(session, [row]))[0]


async def grant_with_enrollment(
    *, session: AsyncSession, user_id: uuid.UUID, course: CourseRow
) -> None:
    """An admin enrolling a learner in a paid course grants it too (kept if present)."""
    if is_paid(course):
        await repository.insert_admin_grant(session, user_id=user_id, course_id=course.course.id)


async def revoke(
    *, session: AsyncSession, admin: User, entitlement_id: uuid.UUID
) -> EntitlementPublic:
    """Revoke any entitlement (an admin's decision, recorded): 404 unknown, 409 revoked."""
    revoked = await repository.revoke(session, entitlement_id=entitlement_id)
    if not revoked:
        existing = await repository.get(session, entitlement_id)
        if existing is None:
            raise NotFound("no such entitlement", field="entitlement_id")
        raise AlreadyRevoked("this entitlement is revoked already")
    row = revoked[0]
    await record_activity(
        session,
        actor_id=admin.id,
        verb="revoked",
        object_type="entitlement",
        object_id=str(row.id),
        course_id=row.course_id,
        result={"user_id": str(row.user_id), "source": row.source},
    )
    return (await _public(session, [row]))[0]


async def entitlements_of(
    *, session: AsyncSession, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[EntitlementPublic]:
    """Every entitlement of a user, current or not (``current`` says), ``limit + 1``."""
    rows = await repository.list_for_user(session, user_id=user_id, after=after, limit=limit)
    return await _public(session, rows)


async def admin_grant(
    *, session: AsyncSession, admin: User, user_id: uuid.UUID, course_ref: str
) -> EntitlementPublic:
    """``POST /admin/entitlements``: the learner and the course must exist."""
    if await identity.user_by_id(session=session, user_id=user_id) is None:
        raise NotFound("no such user", field="user_id")
    course = await catalog.visible_course(session=session, viewer=admin, course_ref=course_ref)
    return await grant(session=session, admin=admin, user_id=user_id, course=course)


async def holds(*, session: AsyncSession, user_id: uuid.UUID, course: str) -> bool:
    """Whether the user has a current entitlement covering the course (content id)."""
    return await repository.is_entitled(session, user_id=user_id, course=course)


async def grant_purchase(
    *, session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, payment_id: uuid.UUID
) -> Entitlement:
    """The entitlement a succeeded payment buys (the same row when a replay asks again)."""
    return await repository.insert_entitlement(
        session,
        Entitlement(user_id=user_id, source="purchase", course_id=course_id, payment_id=payment_id),
    )


async def revoke_purchase(*, session: AsyncSession, payment_id: uuid.UUID) -> bool:
    """A refunded payment's entitlement ends now; False when it had none live."""
    return bool(await repository.revoke(session, payment_id=payment_id))


async def grant_subscription(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    subscription_id: uuid.UUID,
    category_id: uuid.UUID | None,
    ends_at: datetime,
) -> None:
    """A subscription's entitlement (its plan's scope) runs to the period's end; a
    renewal, a lapse or a cancellation moves that end."""
    entitlement = await repository.insert_entitlement(
        session,
        Entitlement(
            user_id=user_id,
            source="subscription",
            category_id=category_id,
            subscription_id=subscription_id,
            ends_at=ends_at,
        ),
    )
    if entitlement.ends_at != ends_at:
        await repository.set_subscription_end(
            session, subscription_id=subscription_id, ends_at=ends_at
        )


async def end_subscription(*, session: AsyncSession, subscription_id: uuid.UUID) -> None:
    """A cancelled or expired subscription's entitlement ends now (if it runs longer)."""
    await repository.end_subscription(session, subscription_id=subscription_id)


async def move_subscription_end(
    *, session: AsyncSession, subscription_id: uuid.UUID, ends_at: datetime
) -> None:
    """A subscription whose period is over (lapsed, unpaid): its entitlement ends then."""
    await repository.set_subscription_end(session, subscription_id=subscription_id, ends_at=ends_at)
