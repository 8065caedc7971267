"""The teachers' review queue (teachers and admins, DECISIONS 3): submitted work in the
order it was submitted, known by its ``review_id``, never by the learner.

A review moves ``submitted`` → ``in_review`` (``start``, optional) → ``reviewed`` (a
score and a rubric) or ``returned`` (what to fix). In the same transaction, a review
becomes mastery evidence for the practice's competencies (the one handler of graded
work, ``competencies.record_graded``) and marks the practice done for the learner; a
return opens a feedback ticket per competency (``competencies.record_returned``)."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.access.service import EnrollmentRequired
from syllabus.assessment.hooks import GradedItem, GradedWork
from syllabus.competencies import service as competencies
from syllabus.content import service as content
from syllabus.errors import NotFound, ValidationFailed
from syllabus.homework import repository
from syllabus.homework.errors import OwnSubmission
from syllabus.homework.models import MAX_SCORE, Submission, SubmissionFile
from syllabus.homework.repository import Row
from syllabus.homework.schemas import (
    Action,
    GradeSubmission,
    ReturnSubmission,
    StartReview,
    SubmissionToReview,
)
from syllabus.homework.service import (
    Database,
    download,
    files_public,
    review_public,
    wrong_status,
)
from syllabus.identity import service as identity
from syllabus.identity.models import User
from syllabus.learning import service as learning

REVIEWABLE = ("submitted", "in_review")


async def _items(session: AsyncSession, rows: Sequence[Row]) -> list[SubmissionToReview]:
    attached = await repository.files_of(session, [s.id for s, _ in rows])
    practices = await content.snapshots(
        {(s.practice_content_id, s.practice_version) for s, _ in rows}
    )
    items = []
    for submission, course in rows:
        practice = practices.get((submission.practice_content_id, submission.practice_version))
        assert submission.submitted_at is not None
        items.append(
            SubmissionToReview(
                id=submission.review_id,
                practice_id=submission.practice_content_id,
                practice_version=submission.practice_version,
                practice_title=str((practice or {}).get("title", submission.practice_content_id)),
                course_id=course,
                version=submission.version,
                status=submission.status,
                text=submission.text,
                links=submission.links,
                files=files_public(attached[submission.id]),
                submitted_at=submission.submitted_at,
                review=review_public(submission),
            )
        )
    return items


async def queue(
    *,
    session: AsyncSession,
    status: str,
    course_id: str | None,
    practice_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[SubmissionToReview]:
    """One status of the queue, first submitted first, of one course or practice when
    asked (a teacher who reviews one course's work need not page through the rest)."""
    rows = await repository.queue_page(
        session,
        status=status,
        course_id=course_id,
        practice_id=practice_id,
        after=after,
        limit=limit,
    )
    return await _items(session, rows)


async def item(*, session: AsyncSession, review_id: uuid.UUID) -> SubmissionToReview:
    row = await repository.by_review_id(session, review_id)
    if row is None:
        raise NotFound("no such submission to review", field="review_id")
    return (await _items(session, [row]))[0]


async def review_file(
    *, session: AsyncSession, database: Database, review_id: uuid.UUID, file_id: uuid.UUID
) -> tuple[SubmissionFile, AsyncIterator[bytes]]:
    row = await repository.review_file(session, review_id=review_id, file_id=file_id)
    return await download(database, row, field="file_id")


def _score(action: GradeSubmission) -> Decimal:
    """The score given, or the rubric's share of points as a percentage."""
    if action.score is not None:
        return Decimal(str(action.score)).quantize(Decimal("0.01"))
    if not action.rubric:
        message = "give a score, or a rubric to compute it from"
        raise ValidationFailed(
            message,
            errors=[{"field": "score", "in": "body", "message": message, "type": "missing"}],
        )
    for i, line in enumerate(action.rubric):
        if line.points > line.max_points:
            message = f"{line.points} points is more than max_points {line.max_points}"
            raise ValidationFailed(
                message,
                errors=[
                    {
                        "field": f"rubric[{i}].points",
                        "in": "body",
                        "message": message,
                        "type": "rubric",
                    }
                ],
            )
    earned = sum((Decimal(str(line.points)) for line in action.rubric), Decimal(0))
    total = sum((Decimal(str(line.max_points)) for line in action.rubric), Decimal(0))
    return (MAX_SCORE * earned / total).quantize(Decimal("0.01"))


async def act(
    *, session: AsyncSession, reviewer: User, review_id: uuid.UUID, action: Action
) -> SubmissionToReview:
    row = await repository.by_review_id(session, review_id, lock=True)
    if row is None:
        raise NotFound("no such submission to review", field="review_id")
    submission, _ = row
    if submission.user_id == reviewer.id:
        raise OwnSubmission("you may not review your own submission")
    if isinstance(action, StartReview):
        if submission.status != "submitted":
            raise wrong_status(submission, ["submitted"], "starting a review")
        submission.status = "in_review"
    elif submission.status not in REVIEWABLE:
        raise wrong_status(submission, REVIEWABLE, f"the {action.action} action")
    elif isinstance(action, GradeSubmission):
        score = _score(action)
        _judged(submission, reviewer, status="reviewed", comment=action.comment)
        submission.score = score
        submission.rubric = [line.model_dump() for line in action.rubric]
        await session.flush()
        await _graded(session, submission, score)
    else:
        assert isinstance(action, ReturnSubmission)
        _judged(submission, reviewer, status="returned", comment=action.comment)
        submission.what_to_fix = action.what_to_fix
        await session.flush()
        await competencies.record_returned(
            session,
            competencies.ReturnedWork(
                user_id=submission.user_id,
                submission_id=submission.id,
                practice_id=submission.practice_content_id,
                practice_version=submission.practice_version,
                course_id=submission.course_id,
                competencies=tuple((await _practice(submission)).get("competencies", [])),
                what_to_fix=action.what_to_fix,
            ),
        )
    await session.flush()
    return (await _items(session, [row]))[0]


def _judged(submission: Submission, reviewer: User, *, status: str, comment: str) -> None:
    submission.status = status
    submission.reviewer_id = reviewer.id
    submission.reviewed_at = datetime.now(UTC)
    submission.comment = comment


async def _practice(submission: Submission) -> dict[str, Any]:
    """The practice at the version that was submitted (its title, its competencies)."""
    ref = (submission.practice_content_id, submission.practice_version)
    return (await content.snapshots({ref})).get(ref, {})


async def _graded(session: AsyncSession, submission: Submission, score: Decimal) -> None:
    """Evidence and mastery for the practice's competencies, and the practice done for
    the learner (unless they have left the course since: the review stands)."""
    practice = await _practice(submission)
    await competencies.record_graded(
        session,
        [
            GradedWork(
                source="submission",
                attempt_id=submission.id,
                user_id=submission.user_id,
                container_id=submission.practice_content_id,
                container_version=submission.practice_version,
                title=str(practice.get("title", submission.practice_content_id)),
                course_id=submission.course_id,
                items=(
                    GradedItem(
                        item_id=submission.practice_content_id,
                        version=submission.practice_version,
                        points=float(score),
                        max_points=float(MAX_SCORE),
                        competencies=tuple(practice.get("competencies", [])),
                    ),
                ),
            )
        ],
    )
    learner = await identity.user_by_id(session=session, user_id=submission.user_id)
    if learner is None:  # erased since: nothing to mark done
        return
    try:
        await learning.complete_practice(
            session=session, user=learner, practice_id=submission.practice_content_id
        )
    except (NotFound, EnrollmentRequired):
        return
