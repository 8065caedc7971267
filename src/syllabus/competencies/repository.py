"""Competency queries: the framework as loaded, mastery upserts that apply the decaying
average in SQL (atomic under concurrent events), evidence, tickets and the read models."""

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.catalog.models import ContentIndex, Course
from syllabus.competencies.mastery import MASTERY_SQL
from syllabus.competencies.models import (
    OPEN_TICKET,
    Competency,
    CompetencyLink,
    Evidence,
    FeedbackTicket,
    Mastery,
    PracticeCheckRun,
)
from syllabus.db.sql import current_actor

# -- the framework --------------------------------------------------------------------------


async def upsert_competencies(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or update by code (reviving soft-deleted ones, recording the source that
    loaded them), then set the parents."""
    if not rows:
        return
    statement = insert(Competency).values(
        [
            {
                "code": r["code"],
                "title": r["title"],
                "description": r["description"],
                "source_id": r["source_id"],
            }
            for r in rows
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["code"],
            set_={
                "title": statement.excluded.title,
                "description": statement.excluded.description,
                "source_id": statement.excluded.source_id,
                "deleted_at": None,
            },
        )
    )
    ids = await ids_by_code(session, [r["code"] for r in rows])
    parents = [
        {"child": ids[r["code"]], "parent": ids[r["parent"]] if r["parent"] else None} for r in rows
    ]
    for row in parents:  # a framework is tens to hundreds of entries: one statement each
        await session.execute(
            update(Competency)
            .where(col(Competency.id) == row["child"])
            .values(parent_id=row["parent"])
        )


async def ids_by_code(session: AsyncSession, codes: Collection[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        select(col(Competency.code), col(Competency.id)).where(col(Competency.code).in_(codes))
    )
    return dict(rows.all())


async def replace_links(
    session: AsyncSession,
    *,
    competency_ids: Collection[uuid.UUID],
    links: Iterable[tuple[uuid.UUID, str, str]],
) -> None:
    """The links of the loaded competencies become exactly ``links`` ((competency id,
    content id, course content id)); links no longer authored are soft-deleted."""
    course_ids = dict((await session.execute(select(col(Course.content_id), col(Course.id)))).all())
    rows = [
        {"competency_id": c, "content_id": content_id, "course_id": course_ids[course]}
        for c, content_id, course in links
        if course in course_ids
    ]
    if rows:
        statement = insert(CompetencyLink).values(rows)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["competency_id", "content_id", "course_id"],
                set_={"deleted_at": None},
            )
        )
    keep = [(r["competency_id"], r["content_id"], r["course_id"]) for r in rows]
    stale = update(CompetencyLink).where(
        col(CompetencyLink.competency_id).in_(competency_ids),
        col(CompetencyLink.deleted_at).is_(None),
    )
    if keep:
        stale = stale.where(
            tuple_(
                col(CompetencyLink.competency_id),
                col(CompetencyLink.content_id),
                col(CompetencyLink.course_id),
            ).not_in(keep)
        )
    await session.execute(stale.values(deleted_at=func.statement_timestamp()))


# -- graded events --------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    mastery: Decimal
    gap_level: int


async def observe(
    session: AsyncSession, *, user_id: uuid.UUID, shares: Mapping[uuid.UUID, Decimal]
) -> dict[uuid.UUID, Observed]:
    """One observation per competency, in ONE upsert: the first becomes the mastery,
    later ones move it by the decaying average (``MASTERY_SQL``)."""
    statement = insert(Mastery).values(
        [
            {"user_id": user_id, "competency_id": competency_id, "mastery": share}
            for competency_id, share in shares.items()
        ]
    )
    table = Mastery.__table__  # type: ignore[attr-defined]
    upsert = statement.on_conflict_do_update(
        index_elements=["user_id", "competency_id"],
        set_={
            "mastery": text(MASTERY_SQL),
            "observations": table.c.observations + 1,
            "observed_at": func.statement_timestamp(),
        },
    ).returning(table.c.competency_id, table.c.mastery, table.c.gap_level)
    rows = await session.execute(upsert)
    return {row[0]: Observed(row[1], row[2]) for row in rows}


async def add_evidence(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Evidence).values(list(rows)))


async def open_tickets(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Open a ticket per row, or refresh the learner's open one for the same competency
    and item (the newest failure's source, attempt, version and priority: a practice's
    failed check and its returned submission share one ticket): retries never duplicate."""
    if not rows:
        return
    statement = insert(FeedbackTicket).values(list(rows))
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "competency_id", "item_id"],
            # Literal SQL, not bound parameters: PostgreSQL infers the partial index
            # from the predicate, which a generic plan's $1 would hide (seen: a 500 on
            # the sixth submit of a session, once asyncpg's statement went generic).
            index_where=text(OPEN_TICKET),
            set_={
                name: statement.excluded[name]
                for name in (
                    "source",
                    "source_id",
                    "container_version",
                    "item_version",
                    "priority",
                    "description",
                )
            },
        )
    )


async def gap_levels(
    session: AsyncSession, *, user_id: uuid.UUID, competency_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The learner's gap level on each of these competencies they have a mastery of."""
    rows = await session.execute(
        select(col(Mastery.competency_id), col(Mastery.gap_level)).where(
            col(Mastery.user_id) == user_id, col(Mastery.competency_id).in_(competency_ids)
        )
    )
    return {competency_id: level for competency_id, level in rows.all() if level is not None}


async def close_tickets(
    session: AsyncSession, *, user_id: uuid.UUID, competency_ids: Collection[uuid.UUID]
) -> None:
    if competency_ids:
        await session.execute(
            update(FeedbackTicket)
            .where(
                col(FeedbackTicket.user_id) == user_id,
                col(FeedbackTicket.competency_id).in_(competency_ids),
                col(FeedbackTicket.status) != "done",
            )
            .values(status="done", closed_at=func.statement_timestamp())
        )


async def evidence_of_sources(
    session: AsyncSession, *, user_id: uuid.UUID, source_ids: Collection[uuid.UUID]
) -> list[Evidence]:
    """The learner's evidence from these graded works (a regrade corrects it)."""
    rows = await session.execute(
        select(Evidence).where(
            col(Evidence.user_id) == user_id, col(Evidence.source_id).in_(source_ids)
        )
    )
    return list(rows.scalars())


async def evidence_history(
    session: AsyncSession, *, user_id: uuid.UUID, competency_ids: Collection[uuid.UUID]
) -> list[Evidence]:
    """Every observation of these competencies for the learner, in the order made (the
    rows of one work are inserted by one statement: one ``created_at``)."""
    rows = await session.execute(
        select(Evidence)
        .where(col(Evidence.user_id) == user_id, col(Evidence.competency_id).in_(competency_ids))
        .order_by(col(Evidence.created_at), col(Evidence.id))
    )
    return list(rows.scalars())


async def set_mastery(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    recomputed: Mapping[uuid.UUID, tuple[Decimal, int]],
) -> None:
    """Replace the learner's mastery of these competencies by a recomputed one
    (mastery, observations): one UPDATE."""
    if not recomputed:
        return
    await session.execute(
        text(
            "UPDATE competency_mastery m SET mastery = r.mastery, observations = r.observations, "
            "updated_by = coalesce(CAST(:actor AS uuid), m.updated_by) "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:masteries AS numeric[]), "
            "CAST(:counts AS int[])) AS r(competency_id, mastery, observations) "
            "WHERE m.user_id = :user AND m.competency_id = r.competency_id"
        ),
        {
            "user": user_id,
            "ids": list(recomputed),
            "masteries": [mastery for mastery, _ in recomputed.values()],
            "counts": [count for _, count in recomputed.values()],
            "actor": current_actor.get(),
        },
    )


async def close_item_tickets(
    session: AsyncSession, *, user_id: uuid.UUID, items: Collection[tuple[uuid.UUID, str]]
) -> None:
    """Close the learner's open tickets opened from these (work, item) pairs: a regrade
    found the item right after all."""
    if items:
        await session.execute(
            update(FeedbackTicket)
            .where(
                col(FeedbackTicket.user_id) == user_id,
                tuple_(col(FeedbackTicket.source_id), col(FeedbackTicket.item_id)).in_(list(items)),
                col(FeedbackTicket.status) != "done",
            )
            .values(status="done", closed_at=func.statement_timestamp())
        )


async def titles(
    session: AsyncSession, competency_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(col(Competency.id), col(Competency.title)).where(
            col(Competency.id).in_(competency_ids)
        )
    )
    return {row[0]: row[1] for row in rows}


# -- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasteryRow:
    competency_id: uuid.UUID
    code: str
    title: str
    parent: str | None
    mastery: Decimal
    gap_level: int
    observations: int
    observed_at: Any
    evidence: int


async def my_mastery(
    session: AsyncSession, *, user_id: uuid.UUID, after: str | None, limit: int
) -> list[MasteryRow]:
    """The learner's mastery rows by competency code, ``limit + 1`` of them, each with
    its evidence count (one query)."""
    evidence = (
        select(func.count())
        .where(
            col(Evidence.user_id) == col(Mastery.user_id),
            col(Evidence.competency_id) == col(Mastery.competency_id),
        )
        .correlate(Mastery)
        .scalar_subquery()
    )
    parents = Competency.__table__.alias("parents")  # type: ignore[attr-defined]
    query = (
        select(
            col(Competency.id),
            col(Competency.code),
            col(Competency.title),
            parents.c.code,
            col(Mastery.mastery),
            col(Mastery.gap_level),
            col(Mastery.observations),
            col(Mastery.observed_at),
            evidence,
        )
        .join(Competency, col(Competency.id) == col(Mastery.competency_id))
        .outerjoin(parents, parents.c.id == col(Competency.parent_id))
        .where(col(Mastery.user_id) == user_id)
        .order_by(col(Competency.code))
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(col(Competency.code) > after)
    return [MasteryRow(*row) for row in (await session.execute(query))]


async def mastery_by_code(
    session: AsyncSession, *, user_id: uuid.UUID, codes: Collection[str]
) -> dict[str, Decimal]:
    """The learner's mastery of each of these competencies they have one for (one query)."""
    if not codes:
        return {}
    rows = await session.execute(
        select(col(Competency.code), col(Mastery.mastery))
        .join(Competency, col(Competency.id) == col(Mastery.competency_id))
        .where(col(Mastery.user_id) == user_id, col(Competency.code).in_(list(codes)))
    )
    return {row[0]: row[1] for row in rows}


@dataclass(frozen=True)
class LessonLink:
    competency_id: uuid.UUID
    lesson_id: str
    title: str
    course_id: str


async def lessons_teaching(
    session: AsyncSession, competency_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[LessonLink]]:
    """The current lessons of published courses that name each competency, in course
    order (one query)."""
    if not competency_ids:
        return {}
    rows = await session.execute(
        select(
            col(CompetencyLink.competency_id),
            col(ContentIndex.content_id),
            col(ContentIndex.title),
            col(Course.content_id),
        )
        .join(ContentIndex, col(ContentIndex.content_id) == col(CompetencyLink.content_id))
        .join(Course, col(Course.id) == col(ContentIndex.course_id))
        .where(
            col(CompetencyLink.competency_id).in_(competency_ids),
            col(CompetencyLink.content_id).startswith("lesson:"),
            col(ContentIndex.status) == "active",
            col(Course.status) == "published",
        )
        .order_by(col(Course.content_id), col(ContentIndex.position))
    )
    found: dict[uuid.UUID, list[LessonLink]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(LessonLink(*row))
    return found


COURSE_OVERVIEW = text(
    """
    WITH learners AS (
      SELECT DISTINCT user_id FROM enrollments
      WHERE course_id = :course AND status <> 'cancelled' AND deleted_at IS NULL
    ), taught AS (
      SELECT DISTINCT competency_id FROM competency_links
      WHERE course_id = :course AND deleted_at IS NULL
    )
    SELECT c.code, c.title,
           count(l.user_id) AS learners,
           count(m.id) AS assessed,
           count(*) FILTER (WHERE m.gap_level = 1) AS gap_1,
           count(*) FILTER (WHERE m.gap_level = 2) AS gap_2,
           count(*) FILTER (WHERE m.gap_level = 3) AS gap_3,
           count(*) FILTER (WHERE m.gap_level = 4) AS gap_4,
           count(*) FILTER (WHERE m.gap_level = 5) AS gap_5,
           round(avg(m.mastery), 4) AS average_mastery
    FROM taught
    JOIN competencies c ON c.id = taught.competency_id AND c.deleted_at IS NULL
    LEFT JOIN learners l ON true
    LEFT JOIN competency_mastery m
      ON m.user_id = l.user_id AND m.competency_id = c.id AND m.deleted_at IS NULL
    GROUP BY c.code, c.title
    ORDER BY c.code
    """
)


async def course_overview(session: AsyncSession, *, course_id: uuid.UUID) -> list[Any]:
    """Per competency the course names: its live learners counted by gap level (no one
    named), in one query."""
    return list((await session.execute(COURSE_OVERVIEW, {"course": course_id})).mappings())


@dataclass(frozen=True)
class TicketRow:
    ticket: FeedbackTicket
    code: str
    title: str
    course: str | None


async def my_tickets(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    status: str | None,
    course: str | None,
    competency: str | None,
    after: uuid.UUID | None,
    limit: int | None,
) -> list[TicketRow]:
    """``limit + 1`` of the learner's tickets in id order (every one: ``limit=None``)."""
    query = (
        select(FeedbackTicket, col(Competency.code), col(Competency.title), col(Course.content_id))
        .join(Competency, col(Competency.id) == col(FeedbackTicket.competency_id))
        .outerjoin(Course, col(Course.id) == col(FeedbackTicket.course_id))
        .where(col(FeedbackTicket.user_id) == user_id)
        .order_by(col(FeedbackTicket.id))
        .limit(None if limit is None else limit + 1)
    )
    if status is not None:
        query = query.where(col(FeedbackTicket.status) == status)
    if course is not None:
        query = query.where(col(Course.content_id) == course)
    if competency is not None:
        query = query.where(col(Competency.code) == competency)
    if after is not None:
        query = query.where(col(FeedbackTicket.id) > after)
    return [TicketRow(*row) for row in (await session.execute(query))]


async def my_ticket(
    session: AsyncSession, *, user_id: uuid.UUID, ticket_id: uuid.UUID
) -> TicketRow | None:
    row = (
        await session.execute(
            select(
                FeedbackTicket,
                col(Competency.code),
                col(Competency.title),
                col(Course.content_id),
            )
            .join(Competency, col(Competency.id) == col(FeedbackTicket.competency_id))
            .outerjoin(Course, col(Course.id) == col(FeedbackTicket.course_id))
            .where(col(FeedbackTicket.user_id) == user_id, col(FeedbackTicket.id) == ticket_id)
            .with_for_update(of=FeedbackTicket)
        )
    ).one_or_none()
    return None if row is None else TicketRow(*row)


async def my_evidence(session: AsyncSession, *, user_id: uuid.UUID) -> list[tuple[Evidence, str]]:
    """Every evidence row of the learner with its competency's code (the export)."""
    rows = await session.execute(
        select(Evidence, col(Competency.code))
        .join(Competency, col(Competency.id) == col(Evidence.competency_id))
        .where(col(Evidence.user_id) == user_id)
        .order_by(col(Evidence.id))
    )
    return list(rows)


async def competencies_by_code(
    session: AsyncSession, codes: Collection[str]
) -> dict[str, tuple[uuid.UUID, str]]:
    """Code → (id, title) of the live competencies among ``codes``."""
    rows = await session.execute(
        select(col(Competency.code), col(Competency.id), col(Competency.title)).where(
            col(Competency.code).in_(codes)
        )
    )
    return {code: (id_, title) for code, id_, title in rows}


EvidenceKey = tuple[uuid.UUID, uuid.UUID, str]
"""(source id, competency id, item id): the evidence a ticket was opened from."""


async def evidence_for(
    session: AsyncSession, keys: Collection[EvidenceKey]
) -> dict[EvidenceKey, Evidence]:
    """The evidence rows behind these tickets, in one query."""
    if not keys:
        return {}
    rows = await session.execute(
        select(Evidence).where(
            tuple_(col(Evidence.source_id), col(Evidence.competency_id), col(Evidence.item_id)).in_(
                list(keys)
            )
        )
    )
    return {(e.source_id, e.competency_id, e.item_id): e for e in rows.scalars()}


async def set_status(session: AsyncSession, *, ticket: FeedbackTicket, status: str) -> None:
    """Done stamps ``closed_at``; reopening clears it (the CHECK holds them together)."""
    if ticket.status == status:
        return
    ticket.status = status
    ticket.closed_at = func.statement_timestamp() if status == "done" else None  # type: ignore[assignment]
    await session.flush()
    await session.refresh(ticket)


# -- automatic practice checks --------------------------------------------------------------


async def add_check_run(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    course_id: uuid.UUID,
    practice_id: str,
    version: int,
    answer: str,
    passed: bool,
    message: str,
) -> uuid.UUID:
    run_id: uuid.UUID = (
        await session.execute(
            insert(PracticeCheckRun)
            .values(
                user_id=user_id,
                course_id=course_id,
                practice_content_id=practice_id,
                practice_version=version,
                answer=answer,
                passed=passed,
                message=message,
            )
            .returning(col(PracticeCheckRun.id))
        )
    ).scalar_one()
    return run_id
