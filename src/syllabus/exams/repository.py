"""Exam queries. Attempts are locked for the write that changes them; events, marks and
results are only ever inserted (an expert task's points: set once, when its marks settle
them)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from syllabus.catalog.models import Course
from syllabus.db import versions
from syllabus.exams.models import (
    ExamAnswerEvent,
    ExamAttempt,
    ExamExpertGrade,
    ExamExpertMark,
    ExamResult,
)


async def mine_locked(
    session: AsyncSession, *, user_id: uuid.UUID, attempt_id: uuid.UUID
) -> ExamAttempt | None:
    """The learner's attempt, locked for this transaction (fresh from the database)."""
    return (
        await session.execute(
            select(ExamAttempt)
            .where(col(ExamAttempt.id) == attempt_id, col(ExamAttempt.user_id) == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_starts(session: AsyncSession, *, user_id: uuid.UUID, exam_id: str) -> None:
    """One start at a time per learner and exam (transaction-scoped advisory lock)."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"exam:{user_id}:{exam_id}", 0)))
    )


async def open_attempt(
    session: AsyncSession, *, user_id: uuid.UUID, exam_id: str
) -> ExamAttempt | None:
    return (
        await session.execute(
            select(ExamAttempt)
            .where(
                col(ExamAttempt.user_id) == user_id,
                col(ExamAttempt.exam_content_id) == exam_id,
                col(ExamAttempt.sealed_at).is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class AttemptsUsed:
    counted: int
    last_number: int


async def attempts_used(session: AsyncSession, *, user_id: uuid.UUID, exam_id: str) -> AttemptsUsed:
    """Live attempts (voided ones do not count) and the highest number ever given."""
    live = col(ExamAttempt.deleted_at).is_(None)
    row = (
        await session.execute(
            select(
                func.count().filter(live),
                func.coalesce(func.max(col(ExamAttempt.attempt_no)), 0),
            )
            .where(
                col(ExamAttempt.user_id) == user_id,
                col(ExamAttempt.exam_content_id) == exam_id,
            )
            .execution_options(include_deleted=True)
        )
    ).one()
    return AttemptsUsed(counted=int(row[0]), last_number=int(row[1]))


async def events(session: AsyncSession, attempt_id: uuid.UUID) -> list[ExamAnswerEvent]:
    """An attempt's answer log, in order."""
    rows = await session.execute(
        select(ExamAnswerEvent)
        .where(col(ExamAnswerEvent.attempt_id) == attempt_id)
        .order_by(col(ExamAnswerEvent.seq))
    )
    return list(rows.scalars().all())


async def latest_results(
    session: AsyncSession, attempt_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ExamResult]:
    """The current (highest) result version of each attempt: one query."""
    return await versions.latest(session, ExamResult, of="attempt_id", ids=attempt_ids)


async def grades_of(session: AsyncSession, attempt_id: uuid.UUID) -> list[ExamExpertGrade]:
    rows = await session.execute(
        select(ExamExpertGrade)
        .where(col(ExamExpertGrade.attempt_id) == attempt_id)
        .order_by(col(ExamExpertGrade.task))
    )
    return list(rows.scalars().all())


async def seal(session: AsyncSession, attempt: ExamAttempt, values: dict[str, Any]) -> None:
    """Write the sealed fields in ONE update (the trigger refuses any later change)."""
    with session.no_autoflush:
        await session.execute(
            update(ExamAttempt)
            .where(col(ExamAttempt.id) == attempt.id, col(ExamAttempt.sealed_at).is_(None))
            .values(values),
            execution_options={"synchronize_session": False},
        )
    for name, value in values.items():
        # Reflect what was written without marking the object dirty (no second UPDATE).
        attempt.__dict__[name] = value


ANY_DUE = text(
    "SELECT 1 FROM exam_attempts"
    " WHERE sealed_at IS NULL AND deleted_at IS NULL AND deadline < :now LIMIT 1"
)
"""Whether :func:`due` would find anything (the index the sweeper scans answers it)."""


async def due(session: AsyncSession, *, now: datetime, limit: int) -> list[ExamAttempt]:
    """Open attempts past ``now`` (deadline plus grace already applied by the caller),
    locked and skipped by any other sealer: several sealers never take the same one.

    Asked first in plain SQL, so a sweep that finds nothing due (nearly all of them)
    never touches the ORM: the first ORM query of a process configures every mapper,
    about 2-3 MiB of a worker that otherwise serves only the hot reads, which are plain
    SQL too (docs/operations.md, "Memory and garbage collection")."""
    if (await session.execute(ANY_DUE, {"now": now})).first() is None:
        return []
    rows = await session.execute(
        select(ExamAttempt)
        .where(col(ExamAttempt.sealed_at).is_(None), col(ExamAttempt.deadline) < now)
        .order_by(col(ExamAttempt.deadline))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars().all())


async def mine_page(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    exam_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[ExamAttempt]:
    """My attempts in the order started, ``limit + 1`` of them, locked (the expired open
    ones among them are about to be sealed)."""
    query = (
        select(ExamAttempt)
        .where(col(ExamAttempt.user_id) == user_id)
        .order_by(col(ExamAttempt.id))
        .limit(limit + 1)
    )
    if exam_id is not None:
        query = query.where(col(ExamAttempt.exam_content_id) == exam_id)
    if after is not None:
        query = query.where(col(ExamAttempt.id) > after)
    return list((await session.execute(query.with_for_update())).scalars().all())


async def queue_page(
    session: AsyncSession,
    *,
    reviewer_id: uuid.UUID,
    pending: bool,
    course_id: str | None,
    exam_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[ExamExpertGrade, ExamAttempt, ExamExpertMark | None]]:
    """The reviewer's side of the queue, in the order the tasks were sealed, with their
    attempts (the sheet holds the problem and the answer), ``limit + 1`` of them:
    pending, the unsettled tasks of other people's attempts they have not marked; else
    the tasks they marked, with their own mark (never another grader's). Only one
    course's (by its content id) or one exam's tasks when given."""
    own = select(ExamExpertMark).where(col(ExamExpertMark.grader_id) == reviewer_id).subquery("own")
    mark = aliased(ExamExpertMark, own)
    query = (
        select(ExamExpertGrade, ExamAttempt, mark)
        .join(ExamAttempt, col(ExamAttempt.id) == col(ExamExpertGrade.attempt_id))
        .outerjoin(own, own.c.grade_id == col(ExamExpertGrade.id))
        .order_by(col(ExamExpertGrade.id))
        .limit(limit + 1)
    )
    if pending:
        query = query.where(
            col(ExamExpertGrade.points).is_(None),
            own.c.id.is_(None),
            col(ExamAttempt.user_id) != reviewer_id,
        )
    else:
        query = query.where(own.c.id.is_not(None))
    if course_id is not None:
        query = query.where(
            col(ExamAttempt.course_id)
            == select(col(Course.id)).where(col(Course.content_id) == course_id).scalar_subquery()
        )
    if exam_id is not None:
        query = query.where(col(ExamExpertGrade.exam_content_id) == exam_id)
    if after is not None:
        query = query.where(col(ExamExpertGrade.id) > after)
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def marks_of(session: AsyncSession, grade_ids: Sequence[uuid.UUID]) -> list[ExamExpertMark]:
    """The marks given on these expert tasks, by task and seat."""
    if not grade_ids:
        return []
    rows = await session.execute(
        select(ExamExpertMark)
        .where(col(ExamExpertMark.grade_id).in_(grade_ids))
        .order_by(col(ExamExpertMark.grade_id), col(ExamExpertMark.seat))
    )
    return list(rows.scalars().all())


async def grade_locked(
    session: AsyncSession, grade_id: uuid.UUID
) -> tuple[ExamExpertGrade, ExamAttempt] | None:
    """The expert task and its attempt, fresh and locked: the attempt first, as a regrade
    locks it (:func:`sealed_of_exam`), then the task. A mark and a regrade of one
    attempt, or two marks on its tasks, so run one after the other, and each reads the
    marks and result versions the other committed."""
    attempt = (
        await session.execute(
            select(ExamAttempt)
            .where(
                col(ExamAttempt.id)
                == select(col(ExamExpertGrade.attempt_id))
                .where(col(ExamExpertGrade.id) == grade_id)
                .scalar_subquery()
            )
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if attempt is None:
        return None
    grade = (
        await session.execute(
            select(ExamExpertGrade)
            .where(col(ExamExpertGrade.id) == grade_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return grade, attempt


async def sealed_of_exam(session: AsyncSession, exam_id: str) -> list[ExamAttempt]:
    """The exam's sealed attempts, locked in id order (FOR NO KEY UPDATE: the sealed
    rows never change, the lock only keeps a teacher's mark out until the regrade has
    committed, so the marks it reads next are the ones its result versions build on)."""
    rows = await session.execute(
        select(ExamAttempt)
        .where(
            col(ExamAttempt.exam_content_id) == exam_id,
            col(ExamAttempt.sealed_at).is_not(None),
        )
        .order_by(col(ExamAttempt.id))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def grades_of_attempts(
    session: AsyncSession, attempt_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ExamExpertGrade]]:
    found: dict[uuid.UUID, list[ExamExpertGrade]] = {a: [] for a in attempt_ids}
    if not attempt_ids:
        return found
    rows = await session.execute(
        select(ExamExpertGrade)
        .where(col(ExamExpertGrade.attempt_id).in_(attempt_ids))
        .order_by(col(ExamExpertGrade.task))
    )
    for grade in rows.scalars().all():
        found[grade.attempt_id].append(grade)
    return found


async def open_in_course(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID, deadline_after: datetime
) -> bool:
    """Whether the user has an exam attempt of the course still open: not sealed, not
    voided, and before its deadline plus grace (``deadline_after``: now less the grace)."""
    query = select(
        exists().where(
            col(ExamAttempt.user_id) == user_id,
            col(ExamAttempt.course_id) == course_id,
            col(ExamAttempt.sealed_at).is_(None),
            col(ExamAttempt.deadline) > deadline_after,
        )
    )
    return bool((await session.execute(query)).scalar_one())
