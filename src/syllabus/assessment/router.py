"""HTTP for quizzes and achievements. Graded responses are returned exactly as stored,
so a replayed submission gets the same bytes."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, tuple_, update
from sqlmodel import col

from syllabus.assessment import service
from syllabus.assessment.models import Achievement, UserAchievement
from syllabus.assessment.schemas import (
    AchievementPublic,
    AnswersIn,
    AttemptPublic,
    AttemptSummary,
    UserAchievementPublic,
)
from syllabus.deps import SessionDep
from syllabus.errors import NotFound, problem_responses
from syllabus.idempotency import service as idempotency
from syllabus.idempotency.service import IdempotencyKeyHeader, Outcome
from syllabus.identity.deps import CurrentUser
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.pagination import Page, Paging, key_datetime, uuid_key

router = APIRouter(tags=["assessment"], responses=problem_responses(401, 422))

QuizRef = Annotated[str, Path(pattern=content_id_pattern("quiz"), max_length=200)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description="Unique per submission; a retry with the same key gets the same answer.",
    ),
]


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
    response_model=AttemptPublic,
    responses=problem_responses(404, 409),
    summary="Submit and grade (idempotent with Idempotency-Key)",
)
async def submit(
    attempt_id: uuid.UUID,
    data: AnswersIn,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
) -> Any:
    body = await service.submit(
        session=session,
        user=user,
        attempt_id=attempt_id,
        answers=data.answers,
        idempotency_key=idempotency_key,
    )
    return Response(body.encode(), media_type="application/json")


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


def _code_key(key: list[object]) -> str:
    code = key[0]
    if not isinstance(code, str):
        raise TypeError
    return code


def _award_key(key: list[object]) -> tuple[datetime, uuid.UUID]:
    awarded_at, award_id = key
    return key_datetime(awarded_at), uuid.UUID(str(award_id))


@router.get("/achievements", tags=["achievements"], summary="Achievements, by code (keyset pages)")
async def list_achievements(session: SessionDep, paging: Paging) -> Page[AchievementPublic]:
    query = select(Achievement).order_by(col(Achievement.code)).limit(paging.limit + 1)
    after = paging.after(_code_key)
    if after is not None:
        query = query.where(col(Achievement.code) > after)
    rows = list((await session.execute(query)).scalars())
    return paging.page(rows, key=lambda row: [row.code]).map(AchievementPublic.model_validate)


@router.get(
    "/users/me/achievements",
    tags=["achievements", "me"],
    summary="My achievements, in the order earned (keyset pages)",
)
async def my_achievements(
    user: CurrentUser, session: SessionDep, paging: Paging
) -> Page[UserAchievementPublic]:
    query = (
        select(UserAchievement, Achievement)
        .join(Achievement, col(Achievement.id) == col(UserAchievement.achievement_id))
        .where(col(UserAchievement.user_id) == user.id)
        .order_by(col(UserAchievement.awarded_at), col(UserAchievement.id))
        .limit(paging.limit + 1)
    )
    after = paging.after(_award_key)
    if after is not None:
        key = tuple_(col(UserAchievement.awarded_at), col(UserAchievement.id))
        query = query.where(key > tuple_(*after))
    rows = list((await session.execute(query)).all())
    page = paging.page(rows, key=lambda row: [row[0].awarded_at, str(row[0].id)])
    return page.map(
        lambda row: UserAchievementPublic(
            achievement=AchievementPublic.model_validate(row[1]),
            awarded_at=row[0].awarded_at,
            seen=row[0].seen,
        )
    )


@router.post(
    "/users/me/achievements/{achievement_id}/seen",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["achievements", "me"],
    responses=problem_responses(404),
    summary="Mark one of my achievements as seen",
)
async def mark_seen(achievement_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> None:
    result = await session.execute(
        update(UserAchievement)
        .where(
            col(UserAchievement.user_id) == user.id,
            col(UserAchievement.achievement_id) == achievement_id,
        )
        .values(seen=True)
        .returning(col(UserAchievement.id))
    )
    if result.first() is None:
        raise NotFound("you do not have this achievement", field="achievement_id")
