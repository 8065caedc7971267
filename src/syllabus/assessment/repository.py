"""Assessment queries: attempts, locked for the write that changes them, sealing graded
attempts in one statement (the database writes their result version 1), and result
versions. Whether a quiz is passed is ``progress``'s rule; the pass of one result is
computed here by its SQL function ``quiz_attempt_passed()``."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam, column, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.assessment.models import QuizAttempt, QuizResult
from syllabus.db import versions


async def mine_locked(
    session: AsyncSession, *, user_id: uuid.UUID, attempt_id: uuid.UUID
) -> QuizAttempt | None:
    """The learner's attempt, locked for this transaction (fresh from the database)."""
    return (
        await session.execute(
            select(QuizAttempt)
            .where(col(QuizAttempt.id) == attempt_id, col(QuizAttempt.user_id) == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_starts(session: AsyncSession, *, user_id: uuid.UUID, quiz_id: str) -> None:
    """One start at a time per learner and quiz (transaction-scoped advisory lock), so
    attempt limits hold under any concurrency."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"quiz:{user_id}:{quiz_id}", 0)))
    )


async def open_attempt(
    session: AsyncSession, *, user_id: uuid.UUID, quiz_id: str
) -> QuizAttempt | None:
    return (
        await session.execute(
            select(QuizAttempt).where(
                col(QuizAttempt.user_id) == user_id,
                col(QuizAttempt.quiz_content_id) == quiz_id,
                col(QuizAttempt.submitted_at).is_(None),
            )
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class AttemptCounts:
    """A learner's live (not voided) attempts at one quiz."""

    submitted: int
    open: int


async def attempt_counts(
    session: AsyncSession, *, user_id: uuid.UUID, quiz_ids: Sequence[str]
) -> dict[str, AttemptCounts]:
    """Per quiz, in ONE query however many: submitted and open attempts, soft-deleted
    (voided) ones left out. A quiz without attempts is absent."""
    if not quiz_ids:
        return {}
    submitted = col(QuizAttempt.submitted_at).is_not(None)
    rows = await session.execute(
        select(
            col(QuizAttempt.quiz_content_id),
            func.count().filter(submitted).label("submitted"),
            func.count().filter(~submitted).label("open"),
        )
        .where(
            col(QuizAttempt.user_id) == user_id,
            col(QuizAttempt.quiz_content_id).in_(quiz_ids),
        )
        .group_by(col(QuizAttempt.quiz_content_id))
    )
    return {row[0]: AttemptCounts(submitted=row[1], open=row[2]) for row in rows}


@dataclass(frozen=True)
class AttemptsUsed:
    """What a start needs to know: the attempts that count toward the limit (the
    voided ones do not) and the highest number ever given (voided ones included), so
    a new attempt never reuses a number."""

    counted: int
    last_number: int


async def attempts_used(session: AsyncSession, *, user_id: uuid.UUID, quiz_id: str) -> AttemptsUsed:
    live = col(QuizAttempt.deleted_at).is_(None)
    row = (
        await session.execute(
            select(
                func.count().filter(live),
                func.coalesce(func.max(col(QuizAttempt.attempt_no)), 0),
            )
            .where(
                col(QuizAttempt.user_id) == user_id,
                col(QuizAttempt.quiz_content_id) == quiz_id,
            )
            .execution_options(include_deleted=True)
        )
    ).one()
    return AttemptsUsed(counted=int(row[0]), last_number=int(row[1]))


async def mine_page_locked(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    quiz_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[QuizAttempt]:
    """My attempts in the order started, ``limit + 1`` of them, locked (the expired open
    ones among them are about to be graded)."""
    query = (
        select(QuizAttempt)
        .where(col(QuizAttempt.user_id) == user_id)
        .order_by(col(QuizAttempt.id))
        .limit(limit + 1)
    )
    if quiz_id is not None:
        query = query.where(col(QuizAttempt.quiz_content_id) == quiz_id)
    if after is not None:
        query = query.where(col(QuizAttempt.id) > after)
    return list((await session.execute(query.with_for_update())).scalars().all())


SEALED = (
    "submitted_at",
    "score",
    "max_score",
    "pass_percent",
    "scoring_policy",
    "details",
)
"""What sealing writes: everything at once, since the trigger refuses any later change;
``passed`` follows from them in SQL."""


async def seal(session: AsyncSession, attempts: Sequence[QuizAttempt]) -> None:
    """ONE update for every graded attempt, from a JSON array of their sealed fields
    (jsonb_to_recordset), setting ``passed`` by ``quiz_attempt_passed()``; RETURNING
    refreshes the loaded objects (``passed`` included), which leaves nothing for the next
    flush to write again (the trigger would refuse it)."""
    table = QuizAttempt.__table__  # type: ignore[attr-defined]
    sealed = (
        func.jsonb_to_recordset(bindparam("sealed", type_=JSONB))
        .table_valued(*(column(name, table.c[name].type) for name in ("id", *SEALED)))
        .render_derived(name="sealed", with_types=True)
    )
    rows = [{name: getattr(a, name) for name in ("id", *SEALED)} for a in attempts]
    passed = func.quiz_attempt_passed(sealed.c.score, sealed.c.max_score, sealed.c.pass_percent)
    with session.no_autoflush:
        await session.execute(
            update(QuizAttempt)
            .where(col(QuizAttempt.id) == sealed.c.id)
            .values({**{name: sealed.c[name] for name in SEALED}, "passed": passed})
            .returning(QuizAttempt),
            {"sealed": to_jsonable_python(rows)},
            execution_options={"synchronize_session": False, "populate_existing": True},
        )


async def open_in_course(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID, deadline_after: datetime
) -> bool:
    """Whether the user has an attempt of the course open: not submitted, not voided,
    and either untimed or before its deadline (``deadline_after``: now less the grace)."""
    query = select(
        exists().where(
            col(QuizAttempt.user_id) == user_id,
            col(QuizAttempt.course_id) == course_id,
            col(QuizAttempt.submitted_at).is_(None),
            or_(col(QuizAttempt.deadline).is_(None), col(QuizAttempt.deadline) > deadline_after),
        )
    )
    return bool((await session.execute(query)).scalar_one())


async def latest_results(
    session: AsyncSession, attempt_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, QuizResult]:
    """The current (highest) result version of each submitted attempt: one query."""
    return await versions.latest(session, QuizResult, of="attempt_id", ids=attempt_ids)


async def sealed_of_quiz(session: AsyncSession, *, quiz_id: str) -> list[QuizAttempt]:
    """Every submitted attempt at the quiz that counts (voided ones left out), oldest
    first. They never change, so they need no lock."""
    rows = await session.execute(
        select(QuizAttempt)
        .where(
            col(QuizAttempt.quiz_content_id) == quiz_id,
            col(QuizAttempt.submitted_at).is_not(None),
        )
        .order_by(col(QuizAttempt.id))
    )
    return list(rows.scalars().all())


PASSES = text(
    """
    SELECT quiz_attempt_passed(s.score, s.max_score, s.pass_percent)
    FROM unnest(CAST(:scores AS numeric[]), CAST(:maxima AS numeric[]),
                CAST(:marks AS numeric[])) WITH ORDINALITY AS s(score, max_score, pass_percent, n)
    ORDER BY s.n
    """
)


async def passes(
    session: AsyncSession, grades: Sequence[tuple[Decimal, Decimal, Decimal | None]]
) -> list[bool]:
    """Whether each (score, max score, pass mark) passes, by ``quiz_attempt_passed()``
    (the one rule, in SQL), in ONE query and without writing anything."""
    if not grades:
        return []
    result = await session.execute(
        PASSES,
        {
            "scores": [score for score, _, _ in grades],
            "maxima": [maximum for _, maximum, _ in grades],
            "marks": [mark for _, _, mark in grades],
        },
    )
    return [bool(passed) for passed in result.scalars()]


async def append_results(session: AsyncSession, results: Sequence[QuizResult]) -> None:
    """New result versions, in one batched INSERT (the unique (attempt, version)
    refuses a number taken twice)."""
    session.add_all(results)
    await session.flush()
