"""HTTP for quiz attempts. Submitting needs an Idempotency-Key: a retry gets the stored
answer, byte for byte (the one idempotency mechanism, ``syllabus.idempotency``)."""

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from syllabus.access.service import EnrollmentRequired
from syllabus.assessment import regrade, service
from syllabus.assessment.schemas import (
    AnswersIn,
    AttemptGraded,
    AttemptPublic,
    AttemptSummary,
    QuizRegradeReport,
    RegradeIn,
)
from syllabus.assessment.service import (
    AttemptExpired,
    AttemptLimitReached,
    AttemptOpen,
    AttemptSubmitted,
)
from syllabus.content.schemas import QuizRef
from syllabus.deps import SessionDep
from syllabus.errors import NotFound, ValidationFailed, problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import (
    IdempotencyKeyHeader,
    IdempotencyKeyReused,
    Outcome,
    RequiredIdempotencyKey,
)
from syllabus.identity.deps import SIGNED_IN_PROBLEMS, AdminUser, CurrentUser
from syllabus.identity.service import RoleRequired
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.openapi import LOCATION_HEADERS
from syllabus.kit.pagination import Page, Paging, uuid_key
from syllabus.kit.urls import absolute_url

router = APIRouter(tags=["assessment"], responses=problem_responses(*SIGNED_IN_PROBLEMS))


@router.post(
    "/quizzes/{quiz_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    response_model=AttemptPublic,
    responses={
        201: {"headers": LOCATION_HEADERS},
        **problem_responses(EnrollmentRequired, NotFound, AttemptOpen, AttemptLimitReached),
    },
    summary="Start an attempt (questions in the learner schema; shuffled if the quiz says so)",
)
async def attempts_start(
    quiz_id: QuizRef,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    async def run() -> Outcome:
        attempt = await service.start(session=session, user=user, quiz_id=quiz_id)
        return Outcome.of(attempt, status=status.HTTP_201_CREATED)

    response = await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=None,
        run=run,
    )
    if response.status_code == status.HTTP_201_CREATED:
        created = json.loads(bytes(response.body))["id"]
        location = request.url_for("attempts_get", attempt_id=created)
        response.headers["Location"] = absolute_url(request, location)
    return response


@router.put(
    "/quiz-attempts/{attempt_id}/answers",
    response_model=AttemptPublic,
    responses=problem_responses(
        EnrollmentRequired, NotFound, AttemptSubmitted, AttemptExpired, ValidationFailed
    ),
    summary="Autosave answers of an open attempt",
)
async def attempts_save_answers(
    attempt_id: uuid.UUID, data: AnswersIn, user: CurrentUser, session: SessionDep
) -> Any:
    return JSONResponse(
        await service.save_answers(
            session=session, user=user, attempt_id=attempt_id, answers=data.answers
        )
    )


@router.post(
    "/quiz-attempts/{attempt_id}/submit",
    response_model=AttemptGraded,
    responses=problem_responses(
        EnrollmentRequired,
        NotFound,
        AttemptSubmitted,
        AttemptExpired,
        ValidationFailed,
        IdempotencyKeyReused,
    ),
    summary="Submit and grade (idempotent with Idempotency-Key)",
)
async def attempts_submit(
    attempt_id: uuid.UUID,
    data: AnswersIn,
    request: Request,
    idempotency_key: RequiredIdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
) -> Response:
    async def run() -> Outcome:
        graded = await service.submit(
            session=session, user=user, attempt_id=attempt_id, answers=data.answers
        )
        return Outcome.of(graded)

    return await idempotency.answer_once(
        request=request,
        session=session,
        user_id=user.id,
        key=idempotency_key,
        body=data.model_dump(mode="json"),
        run=run,
    )


@router.get("/quiz-attempts", summary="My attempts, optionally of one quiz (keyset pages)")
async def attempts_list(
    user: CurrentUser,
    session: SessionDep,
    paging: Paging,
    quiz_id: Annotated[str | None, Query(pattern=content_id_pattern("quiz"))] = None,
) -> Page[AttemptSummary]:
    attempts = await service.mine(
        session=session,
        user=user,
        quiz_id=quiz_id,
        after=paging.after(uuid_key),
        limit=paging.limit,
    )
    return paging.page(attempts, key=lambda attempt: [str(attempt.id)])


@router.get(
    "/quiz-attempts/{attempt_id}",
    response_model=AttemptPublic,
    responses=problem_responses(NotFound),
    summary="One of my attempts; the review appears when the quiz's policy allows",
)
async def attempts_get(attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Any:
    return JSONResponse(await service.read(session=session, user=user, attempt_id=attempt_id))


@router.post(
    "/admin/quizzes/{quiz_id}/regrade",
    responses=problem_responses(RoleRequired, NotFound),
    summary="Regrade every submitted attempt against the current keys (dry run by default)",
)
async def quizzes_regrade(
    quiz_id: QuizRef, data: RegradeIn, admin: AdminUser, session: SessionDep
) -> QuizRegradeReport:
    return await regrade.regrade(session=session, quiz_id=quiz_id, dry_run=data.dry_run)
