"""Study-plan rules: what is left to do (and how long each thing takes), the refusals,
and versions. The layout itself is the planner's (:mod:`syllabus.studyplans.planner`,
behind the :class:`~syllabus.studyplans.planner.Planner` interface). Services never
commit.

Time estimates (docs/competencies.md, "Study plans"): a lesson its ``duration_minutes``;
a quiz its time limit, else :data:`QUIZ_MINUTES`, in one sitting; a practice
:data:`PRACTICE_MINUTES`; a revision half the minutes of the course's lessons that teach
the competency (a second reading is faster), at least :data:`REVISION_MINUTES`; an exam
its duration, in one sitting."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access import service as access
from syllabus.catalog import service as catalog
from syllabus.catalog.repository import CourseRow
from syllabus.content import service as content
from syllabus.content.documents import ExamContent
from syllabus.errors import NotFound, UnprocessableContent, ValidationFailed
from syllabus.identity.models import User
from syllabus.studyplans import repository
from syllabus.studyplans.models import StudyPlan, StudyPlanVersion
from syllabus.studyplans.planner import DoesNotFit, Planner, PlanRequest, Work, sequential
from syllabus.studyplans.repository import ItemLeft, VersionRow
from syllabus.studyplans.schemas import (
    CompetencyToRevise,
    StudyPlanCreate,
    StudyPlanItemPublic,
    StudyPlanPublic,
    StudyPlanRegenerate,
    StudyPlanSummary,
)

QUIZ_MINUTES = 15
PRACTICE_MINUTES = 30
REVISION_MINUTES = 10
PLANNER: Planner = sequential
PLANNER_NAME = "sequential"


class NothingToPlan(UnprocessableContent):
    """A study plan of a course (or exam) where nothing is left: every required item is
    done (optional ones alone do not make a plan), no competency it names is weak and the
    exam cannot be sat again. ``errors`` names the field."""

    title = "Nothing to plan"
    code = "nothing-to-plan"


class PlanDoesNotFit(UnprocessableContent):
    """The required work left does not fit the days before ``target_date`` at
    ``minutes_per_day`` (optional items are left out first); ``needed_minutes_per_day``
    says what would fit (null when only a later date would). ``errors`` names both
    fields."""

    title = "Plan does not fit"
    code = "plan-does-not-fit"


def _field(field: str, message: str, kind: str) -> dict[str, Any]:
    """The ``errors`` extension that names the field a refusal is about."""
    return {"errors": [{"field": field, "in": "body", "message": message, "type": kind}]}


def _target_date_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, **_field("target_date", message, "date_too_early"))


async def _course_of(
    *, session: AsyncSession, user: User, data: StudyPlanCreate
) -> tuple[CourseRow, ExamContent | None, str]:
    """The course whose work the plan lays out (and the exam), refusing what the learner
    may not plan: unknown or hidden (404), not enrolled or not bought (403)."""
    exam: ExamContent | None = None
    if data.exam_id is not None:
        field, ref = "exam_id", data.exam_id
        try:
            exam, course = await content.visible_exam(
                session=session, viewer=user, exam_id=data.exam_id
            )
        except NotFound:
            raise NotFound(f"no exam {ref}", **_field(field, "no such exam", "not_found")) from None
    else:
        assert data.course_id is not None
        field, ref = "course_id", data.course_id
        found = await catalog.course_if_visible(session=session, viewer=user, course_ref=ref)
        if found is None:
            raise NotFound(f"no course {ref}", **_field(field, "no such course", "not_found"))
        course = found
    content_id = course.course.content_id
    if not await access.may_study(session=session, user=user, course=content_id):
        message = f"enroll in {content_id} (and buy it, if it is paid) to plan studying it"
        raise access.EnrollmentRequired(message, **_field(field, message, "enrollment_required"))
    return course, exam, field


def _item_work(item: ItemLeft) -> Work:
    optional = not item.required
    if item.item_type == "lesson":
        return Work("lesson", item.content_id, max(item.duration_minutes or 0, 1), True, optional)
    if item.item_type == "quiz":
        minutes = item.duration_minutes or QUIZ_MINUTES
        return Work("quiz", item.content_id, minutes, False, optional)
    return Work("practice", item.content_id, PRACTICE_MINUTES, True, optional)


def _exam_open(exam: ExamContent, *, first: date, last: date) -> bool:
    """Whether the exam can be sat on some day of the plan (its availability window)."""
    return not (
        (exam.available_until is not None and exam.available_until.date() < first)
        or (exam.available_from is not None and exam.available_from.date() > last)
    )


async def _work(
    *,
    session: AsyncSession,
    user: User,
    course: CourseRow,
    exam: ExamContent | None,
    first: date,
    last: date,
) -> tuple[list[Work], dict[str, uuid.UUID]]:
    """What is left, in the planner's order: weak competencies (weakest first), the
    course's unfinished items (outline order), the exam sitting; and the weak
    competencies' ids by code."""
    weak = await repository.weak_competencies(
        session, user_id=user.id, course_id=course.course.id, exam_id=exam.id if exam else None
    )
    work = [
        Work("revision", w.code, max(REVISION_MINUTES, -(-w.lesson_minutes // 2)), True)
        for w in weak
    ]
    left = await repository.items_left(session, user_id=user.id, course_id=course.course.id)
    work += [_item_work(item) for item in left]
    if exam is not None and _exam_open(exam, first=first, last=last):
        sat = await repository.exam_sittings(session, user_id=user.id, exam_id=exam.id)
        if exam.max_attempts is None or sat < exam.max_attempts:
            work.append(Work("exam", exam.id, -(-exam.duration_seconds // 60), False))
    return work, {w.code: w.id for w in weak}


async def _generate(
    *,
    session: AsyncSession,
    user: User,
    plan: StudyPlan,
    course: CourseRow,
    exam: ExamContent | None,
    field: str,
    version: int,
    target_date: date,
    minutes_per_day: int,
) -> None:
    """Lay out what is left and store it as version ``version`` of ``plan``."""
    today = await repository.learner_today(session, user_id=user.id)
    if target_date <= today:
        raise _target_date_error(
            f"target_date must be after today ({today.isoformat()} in your time zone)"
        )
    days = (target_date - today).days
    work, codes = await _work(
        session=session,
        user=user,
        course=course,
        exam=exam,
        first=today,
        last=target_date - timedelta(days=1),
    )
    if all(piece.optional for piece in work):  # optional work alone is not work left
        message = f"nothing is left to do in {exam.id if exam else course.course.content_id}"
        if work:
            message = (
                f"nothing required is left to do in {course.course.content_id} "
                f"({len(work)} optional item(s) left, which do not make a plan)"
            )
        raise NothingToPlan(message, **_field(field, message, "nothing_to_plan"))
    try:
        schedule = PLANNER(PlanRequest(work=work, days=days, minutes_per_day=minutes_per_day))
    except DoesNotFit as refused:
        needed = refused.needed_minutes_per_day
        message = (
            f"the work left does not fit {days} day(s) at {minutes_per_day} minutes a day: "
            + (
                f"it needs {needed} minutes a day, or a later target date"
                if needed
                else "it needs a later target date"
            )
        )
        raise PlanDoesNotFit(
            message,
            needed_minutes_per_day=needed,
            errors=[
                {"field": name, "in": "body", "message": message, "type": "does_not_fit"}
                for name in ("minutes_per_day", "target_date")
            ],
        ) from None
    await repository.add_version(
        session,
        StudyPlanVersion(
            plan_id=plan.id,
            user_id=user.id,
            version=version,
            target_date=target_date,
            minutes_per_day=minutes_per_day,
            starts_on=today,
            daily_minutes=schedule.daily_minutes,
            planner=PLANNER_NAME,
        ),
        [
            {
                "position": position,
                "day": today + timedelta(days=item.day),
                "kind": item.work.kind,
                "content_id": None if item.work.kind == "revision" else item.work.ref,
                "competency_id": codes[item.work.ref] if item.work.kind == "revision" else None,
                "minutes": item.minutes,
                "part": item.part,
                "parts": item.parts,
            }
            for position, item in enumerate(schedule.items, start=1)
        ],
    )


async def create(*, session: AsyncSession, user: User, data: StudyPlanCreate) -> StudyPlanPublic:
    """A new plan, at version 1."""
    course, exam, field = await _course_of(session=session, user=user, data=data)
    plan = StudyPlan(user_id=user.id, course_id=course.course.id, exam_id=data.exam_id)
    session.add(plan)
    await session.flush()
    await _generate(
        session=session,
        user=user,
        plan=plan,
        course=course,
        exam=exam,
        field=field,
        version=1,
        target_date=data.target_date,
        minutes_per_day=data.minutes_per_day,
    )
    return await get(session=session, user=user, plan_id=plan.id, version=None)


def _missing(plan_id: uuid.UUID) -> NotFound:
    return NotFound(f"no study plan {plan_id} of yours", field="study_plan_id")


async def regenerate(
    *, session: AsyncSession, user: User, plan_id: uuid.UUID, data: StudyPlanRegenerate
) -> StudyPlanPublic:
    """A new version from what is left now (the older versions stay readable), with the
    target date and minutes per day changed where ``data`` says."""
    plan = await repository.lock_plan(session, user_id=user.id, plan_id=plan_id)
    latest = await repository.get_version(session, user_id=user.id, plan_id=plan_id, version=None)
    if plan is None or latest is None:
        raise _missing(plan_id)
    ask = StudyPlanCreate(
        course_id=None if plan.exam_id else latest.course_id,
        exam_id=plan.exam_id,
        target_date=data.target_date or latest.target_date,
        minutes_per_day=data.minutes_per_day or latest.minutes_per_day,
    )
    course, exam, field = await _course_of(session=session, user=user, data=ask)
    await _generate(
        session=session,
        user=user,
        plan=plan,
        course=course,
        exam=exam,
        field=field,
        version=latest.versions + 1,
        target_date=ask.target_date,
        minutes_per_day=ask.minutes_per_day,
    )
    return await get(session=session, user=user, plan_id=plan.id, version=None)


def _summary(row: VersionRow) -> dict[str, Any]:
    return {
        "id": row.plan_id,
        "course_id": row.course_id,
        "exam_id": row.exam_id,
        "version": row.version,
        "versions": row.versions,
        "target_date": row.target_date,
        "minutes_per_day": row.minutes_per_day,
        "daily_minutes": row.daily_minutes,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "planner": row.planner,
        "items_total": row.items_total,
        "items_done": row.items_done,
        "optional_total": row.optional_total,
        "optional_done": row.optional_done,
        "created_at": row.plan_created_at,
        "generated_at": row.generated_at,
    }


async def my_plans(
    *, session: AsyncSession, user: User, after: uuid.UUID | None, limit: int
) -> list[StudyPlanSummary]:
    rows = await repository.list_plans(session, user_id=user.id, after=after, limit=limit)
    return [StudyPlanSummary(**_summary(row)) for row in rows]


async def _exam_title(exam_id: str | None) -> str | None:
    """The exam's title (MongoDB), or None once it is archived or gone."""
    if exam_id is None:
        return None
    try:
        return (await content.exam_document(exam_id)).title
    except NotFound:
        return None


async def get(
    *, session: AsyncSession, user: User, plan_id: uuid.UUID, version: int | None
) -> StudyPlanPublic:
    """One of my plans at a version (the latest by default), each item's ``done`` read
    from progress now; a revision lists the course's lessons that teach its competency."""
    row = await repository.get_version(session, user_id=user.id, plan_id=plan_id, version=version)
    if row is None:
        if version is not None and await repository.get_version(
            session, user_id=user.id, plan_id=plan_id, version=None
        ):
            raise NotFound(f"the plan has no version {version}", field="version")
        raise _missing(plan_id)
    items = await repository.items_of(session, version_id=row.version_id)
    today = await repository.learner_today(session, user_id=user.id)
    exam_title = await _exam_title(row.exam_id) if any(i.kind == "exam" for i in items) else None
    return StudyPlanPublic(
        **_summary(row),
        items=[
            StudyPlanItemPublic(
                position=item.position,
                day=item.day,
                kind=item.kind,
                content_id=item.content_id,
                title=exam_title if item.kind == "exam" else item.title,
                competency=None
                if item.competency_id is None or item.competency_code is None
                else CompetencyToRevise(code=item.competency_code, lessons=item.lessons),
                minutes=item.minutes,
                part=item.part,
                parts=item.parts,
                done=item.done,
                optional=item.optional,
                overdue=not item.done and not item.optional and item.day < today,
            )
            for item in items
        ],
    )
