"""HTTP for competencies: my mastery and what to study, my feedback tickets, and a
course's learners by competency for teachers and admins."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from syllabus.catalog.schemas import CourseRef
from syllabus.competencies import checks, service
from syllabus.competencies.models import TicketStatus
from syllabus.competencies.schemas import (
    CheckOutcome,
    CheckRequest,
    CompetencyMastery,
    CompetencyOverviewList,
    FeedbackTicketPublic,
    TicketUpdate,
)
from syllabus.content.schemas import PracticeRef
from syllabus.db.sandbox import Sandbox
from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.identity.deps import CurrentUser, ReviewerUser
from syllabus.kit.filters import CourseFilter
from syllabus.kit.ids import COMPETENCY_CODE_PATTERN
from syllabus.kit.pagination import Page, Paging, uuid_key

router = APIRouter(tags=["competencies"], responses=problem_responses(401, 422))


def _code_key(key: list[object]) -> str:
    code = key[0]
    if not isinstance(code, str):
        raise TypeError
    return code


@router.get(
    "/users/me/competencies",
    tags=["me"],
    summary="My mastery and gap level per competency, with the lessons that teach it",
)
async def me_competencies(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[CompetencyMastery]:
    rows = await service.my_competencies(
        session=session, user=user, after=paging.after(_code_key), limit=paging.limit
    )
    return paging.page(rows, key=lambda row: [row.code])


@router.get(
    "/courses/{course_ref}/competencies",
    responses=problem_responses(403, 404),
    summary="A course's learners counted by gap level per competency (teachers, admins)",
)
async def courses_competencies(
    course_ref: CourseRef, viewer: ReviewerUser, session: SessionDep
) -> CompetencyOverviewList:
    return CompetencyOverviewList(
        items=await service.course_overview(session=session, viewer=viewer, course_ref=course_ref)
    )


@router.get(
    "/users/me/feedback-tickets",
    tags=["me"],
    summary="My feedback tickets, oldest first (keyset pages)",
)
async def me_tickets_list(
    user: CurrentUser,
    session: SessionDep,
    paging: Paging,
    status: TicketStatus | None = None,
    course_id: CourseFilter = None,
    competency: Annotated[
        str | None, Query(pattern=f"^{COMPETENCY_CODE_PATTERN}$", max_length=64)
    ] = None,
) -> Page[FeedbackTicketPublic]:
    rows = await service.my_tickets(
        session=session,
        user=user,
        status=status,
        course=course_id,
        competency=competency,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(rows, key=lambda row: [str(row.id)])


@router.patch(
    "/users/me/feedback-tickets/{ticket_id}",
    tags=["me"],
    responses=problem_responses(404),
    summary="Move one of my tickets to To Do, In Progress or Done",
)
async def me_tickets_update(
    ticket_id: uuid.UUID, data: TicketUpdate, user: CurrentUser, session: SessionDep
) -> FeedbackTicketPublic:
    return await service.set_ticket_status(
        session=session, user=user, ticket_id=ticket_id, status=data.status
    )


def sql_sandbox(request: Request) -> Sandbox:
    """The process's SQL sandbox (opened lazily; see db/sandbox.py)."""
    sandbox: Sandbox = request.app.state.sql_sandbox
    return sandbox


@router.post(
    "/practices/{practice_id}/checks",
    tags=["practices"],
    responses=problem_responses(403, 404, 409),
    summary="Check my answer to a practice automatically (SQL in a sandbox, or patterns)",
)
async def practices_check(
    practice_id: PracticeRef,
    data: CheckRequest,
    user: CurrentUser,
    session: SessionDep,
    sandbox: Annotated[Sandbox, Depends(sql_sandbox)],
) -> CheckOutcome:
    """Runs the practice's automatic checks on ``answer`` and records the outcome: a
    pass marks the practice done (its points), a failure opens or refreshes a feedback
    ticket on its competencies. An SQL practice's query runs read-only, as a role that
    can read only the practice's sample data, with a timeout and a row limit."""
    return await checks.check_practice(
        session=session, sandbox=sandbox, user=user, practice_id=practice_id, answer=data.answer
    )
