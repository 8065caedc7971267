"""The learner's mastery, evidence and feedback tickets, for ``GET /users/me/export``.
Evidence and tickets from a quiz name the question and its points only once the quiz's
review is open to them, as the API does (DECISIONS 14); from an exam, never (yet): its
review decision is not asked here."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.repository import course_content_id
from syllabus.competencies import repository, service
from syllabus.competencies.models import (
    Competency,
    Evidence,
    FeedbackTicket,
    Mastery,
    PracticeCheckRun,
)
from syllabus.identity.export import export_section, export_table, rows_of_user, table_of

REVIEW_ONLY = ("item_id", "item_version", "points", "max_points")
"""What an evidence row says that only an open review may show: which question, and
whether it was right."""


def competency_code(competency_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The code of the competency whose key is in ``competency_id`` (the API's id)."""
    return (
        select(col(Competency.code))
        .where(col(Competency.id) == competency_id)
        .correlate_except(Competency)
        .scalar_subquery()
    )


CODES = {"competency_id": competency_code}

export_table("competency_mastery", Mastery, ids=CODES)
export_table("practice_check_runs", PracticeCheckRun, ids={"course_id": course_content_id})


@export_section("competency_evidence", tables=[table_of(Evidence).name])
async def _evidence(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await rows_of_user(session, Evidence, user_id, ids=CODES)
    quiz_attempts = [row["source_id"] for row in rows if row["source"] == "quiz"]
    open_reviews = await service.reviewable(session, source_ids=quiz_attempts)
    return [
        row
        if row["source"] in ("submission", "check") or row["source_id"] in open_reviews
        else {name: value for name, value in row.items() if name not in REVIEW_ONLY}
        for row in rows
    ]


@export_section("feedback_tickets", tables=[table_of(FeedbackTicket).name])
async def _tickets(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await repository.my_tickets(
        session, user_id=user_id, status=None, course=None, competency=None, after=None, limit=None
    )
    public = await service.tickets_public(session, rows)
    return [ticket.model_dump(mode="json") for ticket in public]


async def erase(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``identity.hooks.account_erased``: an answer sent to a check is free text the
    learner wrote, so it goes; the outcome stays, pseudonymous, like other records."""
    await session.execute(
        update(PracticeCheckRun).where(col(PracticeCheckRun.user_id) == user_id).values(answer="")
    )
