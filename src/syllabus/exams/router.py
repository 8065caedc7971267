"""HTTP for exams: the exams of visible courses, attempts (start, autosave, submit, read,
the sealed sheet), the expert grading queue (``/review``, teachers and admins) and
regrades (``/admin``). Submitting needs an Idempotency-Key, as quizzes do."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from syllabus.assessment.schemas import RegradeIn
from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.exams import grading, listing, prep, service
from syllabus.exams.schemas import (
    ExamAnswersIn,
    ExamAttemptPublic,
    ExamAttemptSummary,
    ExamPrepList,
    ExamPublic,
    ExamRef,
    ExamSummary,
    ExpertTaskItem,
    GradeIn,
    RegradeReport,
    SheetPublic,
)
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome, RequiredIdempotencyKey
from syllabus.identity.deps import ANONYMOUS_TOO, AdminUser, CurrentUser, OptionalUser, ReviewerUser
from syllabus.kit.filters import CourseFilter, ExamFilter
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.pagination import Page, Paging, uuid_key
from syllabus.kit.schemas import OutputSchema

router = APIRouter(tags=["exams"], responses=problem_responses(401, 422))

COURSE_FILTER = r"^(course:)?[a-z0-9]+(?:-[a-z0-9]+)*$"


class ExamList(OutputSchema):
    items: list[ExamSummary]


@router.get("/exams", openapi_extra=ANONYMOUS_TOO, summary="Exams of the courses you may see")
async def exams_list(
    session: SessionDep,
    viewer: OptionalUser,
    course: Annotated[
        str | None, Query(pattern=COURSE_FILTER, max_length=200, description="Id or slug.")
    ] = None,
) -> ExamList:
    return ExamList(items=await listing.list_exams(session=session, viewer=viewer, course=course))


@router.get(
    "/exams/{exam_id}",
    openapi_extra=ANONYMOUS_TOO,
    responses=problem_responses(404),
    summary="One exam: parts, tasks, rubric, scale (questions are drawn at start)",
)
async def exams_get(exam_id: ExamRef, session: SessionDep, viewer: OptionalUser) -> ExamPublic:
    return await listing.exam_public(session=session, viewer=viewer, exam_id=exam_id)


@router.post(
    "/exams/{exam_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    response_model=ExamAttemptPublic,
    responses=problem_responses(403, 404, 409),
    summary="Start an attempt: draws your variant and sets the deadline",
)
async def exams_start(
    exam_id: ExamRef,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    async def run() -> Outcome:
        attempt = await service.start(session=session, user=user, exam_id=exam_id)
        return Outcome.of(attempt, status=status.HTTP_201_CREATED)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=None,
        run=run,
    )


@router.put(
    "/exam-attempts/{exam_attempt_id}/answers",
    response_model=ExamAttemptPublic,
    responses=problem_responses(403, 404, 409),
    summary="Autosave answers (appended to the attempt's answer log; repeats are free)",
)
async def exam_attempts_save_answers(
    exam_attempt_id: uuid.UUID, data: ExamAnswersIn, user: CurrentUser, session: SessionDep
) -> Any:
    return JSONResponse(
        await service.save_answers(
            session=session, user=user, attempt_id=exam_attempt_id, answers=data.answers
        )
    )


@router.post(
    "/exam-attempts/{exam_attempt_id}/submit",
    response_model=ExamAttemptPublic,
    responses=problem_responses(403, 404, 409),
    summary="Submit: seal the answer sheet and grade the auto tasks (Idempotency-Key)",
)
async def exam_attempts_submit(
    exam_attempt_id: uuid.UUID,
    data: ExamAnswersIn,
    request: Request,
    idempotency_key: RequiredIdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
) -> Response:
    async def run() -> Outcome:
        sealed = await service.submit(
            session=session, user=user, attempt_id=exam_attempt_id, answers=data.answers
        )
        return Outcome.of(sealed)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.get(
    "/exam-attempts/{exam_attempt_id}",
    response_model=ExamAttemptPublic,
    responses=problem_responses(403, 404),
    summary="One of my exam attempts; the review appears when the exam's policy allows",
)
async def exam_attempts_get(
    exam_attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Any:
    return JSONResponse(await service.read(session=session, user=user, attempt_id=exam_attempt_id))


@router.get(
    "/exam-attempts/{exam_attempt_id}/sheet",
    response_model=SheetPublic,
    responses=problem_responses(403, 404, 409),
    summary="The sealed answer sheet and its SHA-256, once the review policy allows",
)
async def exam_attempts_sheet(
    exam_attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Any:
    return await service.sheet(session=session, user=user, attempt_id=exam_attempt_id)


@router.get("/users/me/exam-attempts", summary="My exam attempts (keyset pages)")
async def exam_attempts_list(
    user: CurrentUser,
    session: SessionDep,
    paging: Paging,
    exam_id: Annotated[str | None, Query(pattern=content_id_pattern("exam"))] = None,
) -> Page[ExamAttemptSummary]:
    attempts = await service.mine(
        session=session,
        user=user,
        exam_id=exam_id,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(attempts, key=lambda attempt: [str(attempt.id)])


@router.get("/users/me/exam-prep", summary="How my exam preparation is going, per exam")
async def me_exam_prep(user: CurrentUser, session: SessionDep) -> ExamPrepList:
    return ExamPrepList(items=await prep.exam_prep(session=session, user_id=user.id))


@router.get(
    "/review/exam-tasks",
    responses=problem_responses(403),
    summary="The expert grading queue: tasks and answers, never who wrote them nor "
    "another grader's mark",
)
async def exam_tasks_list(
    reviewer: ReviewerUser,
    session: SessionDep,
    paging: Paging,
    state: Annotated[Literal["pending", "graded"], Query(alias="status")] = "pending",
    course_id: CourseFilter = None,
    exam_id: ExamFilter = None,
) -> Page[ExpertTaskItem]:
    items = await grading.queue(
        session=session,
        reviewer=reviewer,
        pending=state == "pending",
        course_id=course_id,
        exam_id=exam_id,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(items, key=lambda item: [str(item.id)])


@router.post(
    "/review/exam-tasks/{grade_id}",
    responses=problem_responses(403, 404, 409),
    summary="Mark one expert task by its rubric (each grader once)",
)
async def exam_tasks_grade(
    grade_id: uuid.UUID, data: GradeIn, reviewer: ReviewerUser, session: SessionDep
) -> ExpertTaskItem:
    return await grading.grade(
        session=session,
        grader=reviewer,
        grade_id=grade_id,
        points=data.points,
        comment=data.comment,
    )


@router.post(
    "/admin/exams/{exam_id}/regrade",
    responses=problem_responses(403, 404),
    summary="Regrade every sealed attempt against the current keys (dry run by default)",
)
async def exams_regrade(
    exam_id: ExamRef, data: RegradeIn, admin: AdminUser, session: SessionDep
) -> RegradeReport:
    return await grading.regrade(session=session, exam_id=exam_id, dry_run=data.dry_run)
