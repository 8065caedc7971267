"""HTTP for quiz attempts. Submitting needs an Idempotency-Key: a retry gets the stored
answer, byte for byte (the one idempotency mechanism, ``syllabus.idempotency``)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from syllabus.assessment import service
from syllabus.assessment.schemas import AnswersIn, AttemptPublic, AttemptSubmitted, AttemptSummary
from syllabus.content.schemas import QuizRef
from syllabus.deps import SessionDep
from syllabus.errors import problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome, RequiredIdempotencyKey
from syllabus.identity.deps import CurrentUser
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.pagination import Page, Paging, uuid_key

router = APIRouter(tags=["assessment"], responses=problem_responses(401, 422))


@router.post(
    "/quizzes/{quiz_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    response_model=AttemptPublic,
    responses=problem_responses(403, 404, 409),
    summary="Start an attempt (questions in the learner schema; shuffled if the quiz says so)",
)
async def start_attempt(
    quiz_id: QuizRef,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    async def run() -> Outcome:
        attempt = await service.start(session=session, user=user, quiz_id=quiz_id)
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
    "/quiz-attempts/{attempt_id}/answers",
    response_model=AttemptPublic,
    responses=problem_responses(404, 409),
    summary="Autosave answers of an open attempt",
)
async def save_answers(
    attempt_id: uuid.UUID, data: AnswersIn, user: CurrentUser, session: SessionDep
) -> Any:
    return JSONResponse(
        await service.save_answers(
            session=session, user=user, attempt_id=attempt_id, answers=data.answers
        )
    )


@router.post(
    "/quiz-attempts/{attempt_id}/submit",
    response_model=AttemptSubmitted,
    responses=problem_responses(404, 409),
    summary="Submit and grade (idempotent with Idempotency-Key)",
)
async def submit(
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
async def list_attempts(
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
    responses=problem_responses(404),
    summary="One of my attempts; the review appears when the quiz's policy allows",
)
async def read_attempt(attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Any:
    return JSONResponse(await service.read(session=session, user=user, attempt_id=attempt_id))
