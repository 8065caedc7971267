"""Submission queries: a learner's own (always filtered by ``user_id``), the review queue
(by ``review_id``, in the order work was submitted), files, and erasure."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import Course
from syllabus.homework.models import Submission, SubmissionFile

Row = tuple[Submission, str]
"""A submission and its course's content id."""


def _with_course() -> Any:
    return select(Submission, col(Course.content_id)).join(
        Course, col(Course.id) == col(Submission.course_id)
    )


async def latest(
    session: AsyncSession, *, user_id: uuid.UUID, practice_id: str
) -> Submission | None:
    """The learner's newest version for this practice, locked: two submissions of one
    practice by one learner queue here (the partial unique index is the last word)."""
    found = await session.execute(
        select(Submission)
        .where(
            col(Submission.user_id) == user_id,
            col(Submission.practice_content_id) == practice_id,
        )
        .order_by(col(Submission.version).desc())
        .limit(1)
        .with_for_update()
    )
    return found.scalar_one_or_none()


async def add_files(session: AsyncSession, rows: Sequence[SubmissionFile]) -> None:
    session.add_all(rows)
    await session.flush()


async def files_of(
    session: AsyncSession, submission_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[SubmissionFile]]:
    found: dict[uuid.UUID, list[SubmissionFile]] = {i: [] for i in submission_ids}
    if not submission_ids:
        return found
    rows = await session.execute(
        select(SubmissionFile)
        .where(col(SubmissionFile.submission_id).in_(submission_ids))
        .order_by(col(SubmissionFile.id))
    )
    for row in rows.scalars():
        found[row.submission_id].append(row)
    return found


async def mine(
    session: AsyncSession, *, user_id: uuid.UUID, submission_id: uuid.UUID, lock: bool = False
) -> Row | None:
    statement = _with_course().where(
        col(Submission.id) == submission_id, col(Submission.user_id) == user_id
    )
    if lock:
        statement = statement.with_for_update(of=Submission)
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def my_page(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    practice_id: str | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int | None,
) -> list[Row]:
    """My submissions in id order (oldest first), optionally of one practice or status."""
    statement = _with_course().where(col(Submission.user_id) == user_id)
    if practice_id is not None:
        statement = statement.where(col(Submission.practice_content_id) == practice_id)
    if status is not None:
        statement = statement.where(col(Submission.status) == status)
    if after is not None:
        statement = statement.where(col(Submission.id) > after)
    statement = statement.order_by(col(Submission.id)).limit(None if limit is None else limit + 1)
    return [(s, c) for s, c in (await session.execute(statement)).all()]


async def my_file(
    session: AsyncSession, *, user_id: uuid.UUID, submission_id: uuid.UUID, file_id: uuid.UUID
) -> SubmissionFile | None:
    found = await session.execute(
        select(SubmissionFile)
        .join(Submission, col(Submission.id) == col(SubmissionFile.submission_id))
        .where(
            col(SubmissionFile.id) == file_id,
            col(Submission.id) == submission_id,
            col(Submission.user_id) == user_id,
        )
    )
    return found.scalar_one_or_none()


async def queue_page(
    session: AsyncSession,
    *,
    status: str,
    course_id: str | None,
    practice_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """Submitted work of one status, first submitted first (the index's order), of one
    course (by its content id) or practice when given."""
    statement = _with_course().where(col(Submission.status) == status)
    if course_id is not None:
        statement = statement.where(col(Course.content_id) == course_id)
    if practice_id is not None:
        statement = statement.where(col(Submission.practice_content_id) == practice_id)
    if after is not None:
        statement = statement.where(
            tuple_(col(Submission.submitted_at), col(Submission.review_id)) > tuple_(*after)
        )
    statement = statement.order_by(col(Submission.submitted_at), col(Submission.review_id))
    return [(s, c) for s, c in (await session.execute(statement.limit(limit + 1))).all()]


async def by_review_id(
    session: AsyncSession, review_id: uuid.UUID, *, lock: bool = False
) -> Row | None:
    """A submission that has been submitted (drafts are the learner's alone)."""
    statement = _with_course().where(
        col(Submission.review_id) == review_id, col(Submission.status) != "draft"
    )
    if lock:
        statement = statement.with_for_update(of=Submission)
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def review_file(
    session: AsyncSession, *, review_id: uuid.UUID, file_id: uuid.UUID
) -> SubmissionFile | None:
    found = await session.execute(
        select(SubmissionFile)
        .join(Submission, col(Submission.id) == col(SubmissionFile.submission_id))
        .where(
            col(SubmissionFile.id) == file_id,
            col(Submission.review_id) == review_id,
            col(Submission.status) != "draft",
        )
    )
    return found.scalar_one_or_none()


async def referenced(session: AsyncSession, gridfs_ids: Collection[str]) -> set[str]:
    """Which of these GridFS ids a file row points at (soft-deleted rows included: their
    files are kept until the row goes)."""
    rows = await session.execute(
        select(col(SubmissionFile.gridfs_id))
        .where(col(SubmissionFile.gridfs_id).in_(gridfs_ids))
        .execution_options(include_deleted=True)
    )
    return set(rows.scalars())


async def erase_user(session: AsyncSession, *, user_id: uuid.UUID) -> list[str]:
    """Erasure: the learner's files' rows are deleted (their GridFS ids returned, for
    the files to follow once this commits) and what they wrote is blanked; status,
    versions, times and scores stay, pseudonymous, for analysts."""
    mine = select(col(Submission.id)).where(col(Submission.user_id) == user_id)
    gone = await session.execute(
        delete(SubmissionFile)
        .where(col(SubmissionFile.submission_id).in_(mine.scalar_subquery()))
        .returning(col(SubmissionFile.gridfs_id))
    )
    gridfs_ids = list(gone.scalars())
    await session.execute(
        update(Submission)
        .where(col(Submission.user_id) == user_id)
        .values(text="", links=[])
        .execution_options(include_deleted=True)
    )
    return gridfs_ids
