"""Competency rules: storing the framework the loader hands over, moving mastery from
graded work in the transaction that grades it, opening and closing feedback tickets, and
what a learner and a teacher see. Services never commit."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.assessment.hooks import GradedWork
from syllabus.assessment.models import QuizAttempt
from syllabus.assessment.review import AttemptRef, reviews_open
from syllabus.catalog import service as catalog
from syllabus.competencies import repository
from syllabus.competencies.mastery import RECOVERED, gap_level, priority, replay
from syllabus.competencies.models import Competency, Evidence
from syllabus.competencies.repository import LessonLink, TicketRow
from syllabus.competencies.schemas import (
    CompetencyMastery,
    CompetencyOverview,
    CompetencyRef,
    FeedbackTicketPublic,
    LessonToStudy,
    TicketItem,
)
from syllabus.content.hooks import CompetencyData
from syllabus.content.sources import OwnedTable
from syllabus.errors import NotFound
from syllabus.identity.models import User

# -- the framework --------------------------------------------------------------------------


async def apply_competencies(
    session: AsyncSession, source: str | None, competencies: list[CompetencyData]
) -> None:
    """The content loader's competencies and their links, stored in its catalog
    transaction (registered on ``content.competencies_loaded`` by ``main.wire``), each
    recording the content source that loaded it."""
    await repository.upsert_competencies(
        session,
        [
            {
                "code": c.code,
                "title": c.title,
                "description": c.description,
                "parent": c.parent,
                "source_id": source,
            }
            for c in competencies
        ],
    )
    ids = await repository.ids_by_code(session, [c.code for c in competencies])
    await repository.replace_links(
        session,
        competency_ids=list(ids.values()),
        links=[
            (ids[c.code], content_id, course)
            for c in competencies
            for content_id, course in c.links
        ],
    )


COMPETENCIES = OwnedTable("competency", Competency, "code")
"""Competencies take part in content ownership (registered by ``main.wire``): a prune
archives (soft-deletes) the ones their source no longer defines; learners' mastery and
tickets of an archived competency stay, and it is no longer listed."""


# -- graded work ----------------------------------------------------------------------------

ITEM_WORDS = {
    "quiz": "A question",
    "exam": "A task",
    "submission": "Your submission",
    "check": "Your answer",
}


def _description(source: str, competency: str, container: str, detail: str = "") -> str:
    """What went wrong, in words that never name the item (the API adds it when the
    review is open); an automatic check adds its message, which names nothing secret."""
    said = f" {detail}" if detail else ""
    return (
        f"{ITEM_WORDS[source]} on “{competency}” in “{container}” lost points.{said} "
        "Revise the lessons listed with this ticket, then try again."
    )


async def mastery_into(
    session: AsyncSession, user_id: uuid.UUID, codes: Collection[str], into: dict[str, Decimal]
) -> None:
    """The learner's mastery of ``codes``, put in ``into`` (exams' ``mastery_wanted``
    hook: an adaptive exam draws on the weak ones)."""
    into.update(await repository.mastery_by_code(session, user_id=user_id, codes=codes))


async def record_graded(session: AsyncSession, works: list[GradedWork]) -> None:
    """Evidence, mastery and tickets from sealed work (registered on
    ``assessment.items_graded``): one observation per competency per work, the share of
    points its items earned; fixed statements per work however many items."""
    codes = {code for work in works for item in work.items for code in item.competencies}
    if not codes:
        return
    known = await repository.competencies_by_code(session, codes)
    for work in works:
        totals: dict[uuid.UUID, list[Decimal]] = {}
        touched: list[tuple[Any, uuid.UUID]] = []
        for item in work.items:
            for code in dict.fromkeys(item.competencies):
                if code not in known or item.max_points <= 0:
                    continue
                competency_id = known[code][0]
                total = totals.setdefault(competency_id, [Decimal(0), Decimal(0)])
                total[0] += Decimal(str(item.points))
                total[1] += Decimal(str(item.max_points))
                touched.append((item, competency_id))
        if not totals:
            continue
        observed = await repository.observe(
            session,
            user_id=work.user_id,
            shares={cid: points / maximum for cid, (points, maximum) in totals.items()},
        )
        common = {
            "user_id": work.user_id,
            "source": work.source,
            "source_id": work.attempt_id,
            "container_id": work.container_id,
            "container_version": work.container_version,
        }
        await repository.add_evidence(
            session,
            [
                {
                    **common,
                    "competency_id": cid,
                    "item_id": item.item_id,
                    "item_version": item.version,
                    "points": item.points,
                    "max_points": item.max_points,
                    "mastery_after": observed[cid].mastery,
                }
                for item, cid in touched
            ],
        )
        titles = dict(known.values())
        await repository.open_tickets(
            session,
            [
                {
                    **common,
                    "competency_id": cid,
                    "course_id": work.course_id,
                    "item_id": item.item_id,
                    "item_version": item.version,
                    "description": _description(work.source, titles[cid], work.title, work.detail),
                    "priority": priority(observed[cid].gap_level),
                }
                for item, cid in touched
                if item.points < item.max_points and observed[cid].mastery < RECOVERED
            ],
        )
        await repository.close_tickets(
            session,
            user_id=work.user_id,
            competency_ids=[cid for cid, seen in observed.items() if seen.mastery >= RECOVERED],
        )


@dataclass(frozen=True)
class ReturnedWork:
    """A submission a teacher returned, with what to fix, for the practice's competencies."""

    user_id: uuid.UUID
    submission_id: uuid.UUID
    practice_id: str
    practice_version: int
    course_id: uuid.UUID
    competencies: tuple[str, ...]
    what_to_fix: str


UNASSESSED_PRIORITY = 2
"""A returned submission's ticket on a competency with no mastery yet: neither urgent
nor minor until graded work says which."""


async def record_returned(session: AsyncSession, work: ReturnedWork) -> None:
    """A returned submission opens a ticket per competency its practice names, saying
    what to fix in the teacher's words (one open ticket per competency and practice: a
    second return refreshes it). Nothing was graded, so mastery does not move; the
    priority follows the learner's gap level where there is one."""
    known = await repository.competencies_by_code(session, set(work.competencies))
    ids = [known[code][0] for code in dict.fromkeys(work.competencies) if code in known]
    if not ids:
        return
    gaps = await repository.gap_levels(session, user_id=work.user_id, competency_ids=ids)
    await repository.open_tickets(
        session,
        [
            {
                "user_id": work.user_id,
                "competency_id": competency_id,
                "course_id": work.course_id,
                "source": "submission",
                "source_id": work.submission_id,
                "container_id": work.practice_id,
                "container_version": work.practice_version,
                "item_id": work.practice_id,
                "item_version": work.practice_version,
                "description": work.what_to_fix,
                "priority": priority(gaps[competency_id])
                if competency_id in gaps
                else UNASSESSED_PRIORITY,
            }
            for competency_id in ids
        ],
    )


async def record_regraded(session: AsyncSession, works: list[GradedWork]) -> None:
    """Correct the evidence of regraded work and what followed from it (registered on
    ``assessment.items_regraded``), per learner: each evidence row of the work takes its
    item's new points; the mastery of every competency touched is replayed from the
    learner's whole history in order (:func:`~syllabus.competencies.mastery.replay`), as
    if the work had been graded so from the start, ``mastery_after`` included; then the
    ticket rules apply to the work again: an item that now loses points opens (or
    refreshes) a ticket while its competency is below ``RECOVERED``, an item found right
    closes the ticket it opened, a competency at ``RECOVERED`` closes its tickets.
    Evidence from competencies a question names only since it was graded is not added:
    the work is corrected, not graded anew."""
    by_learner: dict[uuid.UUID, list[GradedWork]] = {}
    for work in works:
        by_learner.setdefault(work.user_id, []).append(work)
    for user_id, theirs in by_learner.items():
        await _correct(session, user_id, theirs)


async def _correct(session: AsyncSession, user_id: uuid.UUID, works: list[GradedWork]) -> None:
    new = {(work.attempt_id, item.item_id): item for work in works for item in work.items}
    corrected = await repository.evidence_of_sources(
        session, user_id=user_id, source_ids=[work.attempt_id for work in works]
    )
    if not corrected:
        return
    for row in corrected:
        item = new.get((row.source_id, row.item_id))
        if item is not None and item.max_points > 0:
            row.item_version = item.version
            row.points = Decimal(str(item.points))
            row.max_points = Decimal(str(item.max_points))
    await session.flush()
    touched = {row.competency_id for row in corrected}
    history = await repository.evidence_history(session, user_id=user_id, competency_ids=touched)
    final = _replay(history)
    await session.flush()
    await repository.set_mastery(session, user_id=user_id, recomputed=final)
    titles = await repository.titles(session, touched)
    by_work = {work.attempt_id: work for work in works}
    await repository.open_tickets(
        session,
        [
            {
                "user_id": user_id,
                "source": work.source,
                "source_id": work.attempt_id,
                "container_id": work.container_id,
                "container_version": work.container_version,
                "competency_id": row.competency_id,
                "course_id": work.course_id,
                "item_id": row.item_id,
                "item_version": row.item_version,
                "description": _description(work.source, titles[row.competency_id], work.title),
                "priority": priority(gap_level(final[row.competency_id][0])),
            }
            for row in corrected
            if row.points < row.max_points
            and final[row.competency_id][0] < RECOVERED
            and (work := by_work[row.source_id])
        ],
    )
    await repository.close_item_tickets(
        session,
        user_id=user_id,
        items={(row.source_id, row.item_id) for row in corrected if row.points >= row.max_points},
    )
    await repository.close_tickets(
        session,
        user_id=user_id,
        competency_ids=[cid for cid, (mastery, _) in final.items() if mastery >= RECOVERED],
    )


def _replay(history: Sequence[Evidence]) -> dict[uuid.UUID, tuple[Decimal, int]]:
    """Per competency: one observation per work (the share of its rows' points, in the
    order first seen), each row's ``mastery_after`` set; the final (mastery, count)."""
    observations: dict[uuid.UUID, dict[uuid.UUID, list[Evidence]]] = {}
    for row in history:
        observations.setdefault(row.competency_id, {}).setdefault(row.source_id, []).append(row)
    final = {}
    for competency_id, per_work in observations.items():
        groups = list(per_work.values())
        shares = [
            sum((r.points for r in rows), Decimal(0))
            / sum((r.max_points for r in rows), Decimal(0))
            for rows in groups
        ]
        after = replay(shares)
        for rows, mastery in zip(groups, after, strict=True):
            for row in rows:
                row.mastery_after = mastery
        final[competency_id] = (after[-1], len(after))
    return final


# -- what a learner sees --------------------------------------------------------------------


def _lessons(links: list[LessonLink]) -> list[LessonToStudy]:
    return [
        LessonToStudy(id=link.lesson_id, title=link.title, course_id=link.course_id)
        for link in links
    ]


async def my_competencies(
    *, session: AsyncSession, user: User, after: str | None, limit: int
) -> list[CompetencyMastery]:
    rows = await repository.my_mastery(session, user_id=user.id, after=after, limit=limit)
    lessons = await repository.lessons_teaching(session, [row.competency_id for row in rows])
    return [
        CompetencyMastery(
            code=row.code,
            title=row.title,
            parent=row.parent,
            mastery=float(row.mastery),
            gap_level=row.gap_level,
            evidence_count=row.evidence,
            observed_at=row.observed_at,
            study=_lessons(lessons.get(row.competency_id, [])),
        )
        for row in rows
    ]


async def reviewable(session: AsyncSession, *, source_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Of these quiz attempts (one learner's), those whose review the learner may see now:
    the one decision of :mod:`syllabus.assessment.review`."""
    if not source_ids:
        return set()
    attempts = (
        await session.execute(select(QuizAttempt).where(col(QuizAttempt.id).in_(source_ids)))
    ).scalars()
    refs = [
        AttemptRef(
            id=a.id,
            user_id=a.user_id,
            quiz_content_id=a.quiz_content_id,
            quiz_version=a.quiz_version,
            submitted_at=a.submitted_at,
        )
        for a in attempts
    ]
    return await reviews_open(session, refs)


async def tickets_public(
    session: AsyncSession, rows: list[TicketRow]
) -> list[FeedbackTicketPublic]:
    """Tickets as the learner may see them now: the item only where the review is open
    (quiz tickets; homework and practice-check tickets name their practice always)."""
    open_reviews = await reviewable(
        session, source_ids=[r.ticket.source_id for r in rows if r.ticket.source == "quiz"]
    )
    lessons = await repository.lessons_teaching(session, {r.ticket.competency_id for r in rows})
    shown = [
        r.ticket
        for r in rows
        if r.ticket.source in ("submission", "check") or r.ticket.source_id in open_reviews
    ]
    evidence = await repository.evidence_for(
        session, {(t.source_id, t.competency_id, t.item_id) for t in shown}
    )
    result = []
    for row in rows:
        ticket = row.ticket
        item = None
        if ticket in shown:
            found = evidence.get((ticket.source_id, ticket.competency_id, ticket.item_id))
            item = TicketItem(
                id=ticket.item_id,
                version=ticket.item_version,
                points=float(found.points) if found else 0.0,
                max_points=float(found.max_points) if found else 0.0,
            )
        revise = [
            link
            for link in lessons.get(ticket.competency_id, [])
            if row.course is None or link.course_id == row.course
        ]
        assert ticket.created_at is not None
        result.append(
            FeedbackTicketPublic(
                id=ticket.id,
                status=ticket.status,
                priority=ticket.priority,
                competency=CompetencyRef(code=row.code, title=row.title),
                course_id=row.course,
                source=ticket.source,
                container_id=ticket.container_id,
                container_version=ticket.container_version,
                item=item,
                description=ticket.description,
                revise=_lessons(revise),
                created_at=ticket.created_at,
                closed_at=ticket.closed_at,
            )
        )
    return result


async def my_tickets(
    *,
    session: AsyncSession,
    user: User,
    status: str | None,
    course: str | None,
    competency: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[FeedbackTicketPublic]:
    rows = await repository.my_tickets(
        session,
        user_id=user.id,
        status=status,
        course=course,
        competency=competency,
        after=after,
        limit=limit,
    )
    return await tickets_public(session, rows)


async def set_ticket_status(
    *, session: AsyncSession, user: User, ticket_id: uuid.UUID, status: str
) -> FeedbackTicketPublic:
    """The learner moves their ticket between To Do, In Progress and Done."""
    row = await repository.my_ticket(session, user_id=user.id, ticket_id=ticket_id)
    if row is None:
        raise NotFound("no such ticket of yours", field="ticket_id")
    await repository.set_status(session, ticket=row.ticket, status=status)
    return (await tickets_public(session, [row]))[0]


# -- what a teacher sees --------------------------------------------------------------------


async def course_overview(
    *, session: AsyncSession, viewer: User, course_ref: str
) -> list[CompetencyOverview]:
    course = await catalog.visible_course(session=session, viewer=viewer, course_ref=course_ref)
    rows = await repository.course_overview(session, course_id=course.course.id)
    return [
        CompetencyOverview(
            code=row["code"],
            title=row["title"],
            learners=row["learners"],
            not_assessed=row["learners"] - row["assessed"],
            gap_levels={str(level): row[f"gap_{level}"] for level in range(1, 6)},
            average_mastery=None
            if row["average_mastery"] is None
            else float(row["average_mastery"]),
        )
        for row in rows
    ]
