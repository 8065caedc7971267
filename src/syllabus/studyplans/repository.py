"""Study-plan queries. The learner's remaining work is read where its rules live: items
done from ``progress``'s ``items_done`` view, mastery from ``competency_mastery``, exam
sittings from ``exam_attempts``; whether a plan item is done is read the same way each
time a plan is read, never stored."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.competencies.mastery import RECOVERED
from syllabus.studyplans.models import StudyPlan, StudyPlanItem, StudyPlanVersion

LEARNER_TODAY = text(
    "SELECT (statement_timestamp() AT TIME ZONE safe_time_zone(time_zone))::date "
    "FROM users WHERE id = :user"
)


async def learner_today(session: AsyncSession, *, user_id: uuid.UUID) -> date:
    """Today in the learner's time zone: the first day of a plan made now."""
    today: date = (await session.execute(LEARNER_TODAY, {"user": user_id})).scalar_one()
    return today


@dataclass(frozen=True)
class ItemLeft:
    content_id: str
    item_type: str
    duration_minutes: int | None
    required: bool
    """Needed to complete the course (``completion``); practices never are."""


ITEMS_LEFT = text(
    """
    SELECT i.content_id, i.item_type, i.duration_minutes, i.required FROM content_index i
    WHERE i.course_id = :course AND i.status = 'active' AND i.deleted_at IS NULL
      AND NOT EXISTS (SELECT FROM items_done d WHERE d.user_id = :user AND d.item_id = i.content_id)
    ORDER BY i.position
    """
)


async def items_left(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID
) -> list[ItemLeft]:
    """The course's current lessons, practices and quizzes the learner has not done
    (``items_done``: completed, passed, marked done), in outline order."""
    rows = await session.execute(ITEMS_LEFT, {"user": user_id, "course": course_id})
    return [ItemLeft(r.content_id, r.item_type, r.duration_minutes, r.required) for r in rows]


@dataclass(frozen=True)
class WeakCompetency:
    id: uuid.UUID
    code: str
    mastery: Decimal
    lesson_minutes: int
    """The minutes of the course's current lessons that teach it."""


WEAK_COMPETENCIES = text(
    """
    SELECT c.id, c.code, m.mastery,
           coalesce((SELECT sum(coalesce(i.duration_minutes, 0)) FROM competency_links l
                     JOIN content_index i ON i.content_id = l.content_id
                      AND i.course_id = l.course_id AND i.status = 'active'
                      AND i.deleted_at IS NULL
                     WHERE l.competency_id = c.id AND l.course_id = :course
                       AND l.deleted_at IS NULL AND i.item_type = 'lesson'), 0) AS lesson_minutes
    FROM competency_mastery m JOIN competencies c ON c.id = m.competency_id
    WHERE m.user_id = :user AND m.deleted_at IS NULL AND c.deleted_at IS NULL
      AND m.mastery < :recovered
      AND (EXISTS (SELECT FROM competency_links l WHERE l.competency_id = c.id
                   AND l.course_id = :course AND l.deleted_at IS NULL)
           OR EXISTS (SELECT FROM competency_evidence e WHERE e.user_id = :user
                      AND e.competency_id = c.id AND e.container_id = :exam))
    ORDER BY m.mastery, c.code
    """
)


async def weak_competencies(
    session: AsyncSession, *, user_id: uuid.UUID, course_id: uuid.UUID, exam_id: str | None
) -> list[WeakCompetency]:
    """The learner's competencies below the tickets' recovery mark (``RECOVERED``) that
    the course names (or, for an exam, that the exam gave evidence of), weakest first."""
    rows = await session.execute(
        WEAK_COMPETENCIES,
        {"user": user_id, "course": course_id, "exam": exam_id, "recovered": RECOVERED},
    )
    return [WeakCompetency(r.id, r.code, r.mastery, int(r.lesson_minutes)) for r in rows]


EXAM_SITTINGS = text(
    "SELECT count(*) FROM exam_attempts WHERE user_id = :user AND exam_content_id = :exam"
)


async def exam_sittings(session: AsyncSession, *, user_id: uuid.UUID, exam_id: str) -> int:
    """How many attempts at the exam the learner has started (open or sealed)."""
    return int(
        (await session.execute(EXAM_SITTINGS, {"user": user_id, "exam": exam_id})).scalar_one()
    )


# -- writing --------------------------------------------------------------------------------


async def lock_plan(
    session: AsyncSession, *, user_id: uuid.UUID, plan_id: uuid.UUID
) -> StudyPlan | None:
    """The learner's plan, locked until the transaction ends, so two regenerations
    number their versions one after the other."""
    result = await session.execute(
        select(StudyPlan)
        .where(col(StudyPlan.id) == plan_id, col(StudyPlan.user_id) == user_id)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def add_version(
    session: AsyncSession, version: StudyPlanVersion, items: Sequence[dict[str, Any]]
) -> None:
    session.add(version)
    await session.flush()
    session.add_all(
        StudyPlanItem(version_id=version.id, user_id=version.user_id, **item) for item in items
    )
    await session.flush()


# -- reading --------------------------------------------------------------------------------

ITEM_DONE = """
    CASE it.kind
      WHEN 'revision' THEN EXISTS (
        SELECT FROM competency_mastery m WHERE m.user_id = it.user_id
          AND m.competency_id = it.competency_id AND m.mastery >= :recovered
          AND m.deleted_at IS NULL)
      WHEN 'exam' THEN EXISTS (
        SELECT FROM exam_attempts a WHERE a.user_id = it.user_id
          AND a.exam_content_id = it.content_id AND a.sealed_at >= v.created_at)
      ELSE EXISTS (
        SELECT FROM items_done d WHERE d.user_id = it.user_id AND d.item_id = it.content_id)
    END
"""
"""Whether a plan item is done, by the rules that own it: a lesson, practice or quiz by
``items_done``; a revision once the competency's mastery is back at ``RECOVERED`` (where
its tickets close); the exam once a sitting started after this version was made is
sealed."""


ITEM_OPTIONAL = """
    EXISTS (SELECT FROM content_index ci WHERE ci.content_id = it.content_id AND NOT ci.required)
"""
"""Whether a plan item is optional: a lesson, practice or quiz the course does not require
to be complete (``content_index.required``, read now, as course completion reads it); a
revision and the exam sitting never are."""


@dataclass(frozen=True)
class VersionRow:
    plan_id: uuid.UUID
    course_id: str
    exam_id: str | None
    plan_created_at: datetime
    version_id: uuid.UUID
    version: int
    versions: int
    target_date: date
    minutes_per_day: int
    starts_on: date
    daily_minutes: int
    planner: str
    generated_at: datetime
    ends_on: date | None
    items_total: int
    items_done: int
    optional_total: int
    optional_done: int


VERSIONS = f"""
    SELECT p.id AS plan_id, c.content_id AS course_id, p.exam_id,
           p.created_at AS plan_created_at, v.id AS version_id, v.version,
           (SELECT max(version) FROM study_plan_versions w WHERE w.plan_id = p.id) AS versions,
           v.target_date, v.minutes_per_day, v.starts_on, v.daily_minutes, v.planner,
           v.created_at AS generated_at,
           (SELECT max(it.day) FROM study_plan_items it WHERE it.version_id = v.id) AS ends_on,
           counts.items_total, counts.items_done, counts.optional_total, counts.optional_done
    FROM study_plans p
    JOIN courses c ON c.id = p.course_id
    JOIN study_plan_versions v ON v.plan_id = p.id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE NOT item.optional) AS items_total,
               count(*) FILTER (WHERE NOT item.optional AND item.done) AS items_done,
               count(*) FILTER (WHERE item.optional) AS optional_total,
               count(*) FILTER (WHERE item.optional AND item.done) AS optional_done
        FROM (SELECT {ITEM_OPTIONAL} AS optional, {ITEM_DONE} AS done
              FROM study_plan_items it WHERE it.version_id = v.id) item
    ) counts
    WHERE p.user_id = :user AND p.deleted_at IS NULL
"""
LATEST = "v.version = (SELECT max(version) FROM study_plan_versions w WHERE w.plan_id = p.id)"


async def list_plans(
    session: AsyncSession, *, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[VersionRow]:
    """The learner's plans in id order (keyset), each at its latest version: ``limit + 1``
    rows (the page's look-ahead)."""
    rows = await session.execute(
        text(
            f"{VERSIONS} AND {LATEST} AND (CAST(:after AS uuid) IS NULL OR p.id > :after) "
            "ORDER BY p.id LIMIT :limit"
        ),
        {"user": user_id, "after": after, "limit": limit + 1, "recovered": RECOVERED},
    )
    return [VersionRow(**row) for row in rows.mappings()]


async def get_version(
    session: AsyncSession, *, user_id: uuid.UUID, plan_id: uuid.UUID, version: int | None
) -> VersionRow | None:
    """One of the learner's plans at ``version`` (its latest when None)."""
    which = LATEST if version is None else "v.version = :version"
    row = (
        (
            await session.execute(
                text(f"{VERSIONS} AND p.id = :plan AND {which}"),
                {"user": user_id, "plan": plan_id, "version": version, "recovered": RECOVERED},
            )
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else VersionRow(**row)


@dataclass(frozen=True)
class ItemRow:
    position: int
    day: date
    kind: str
    content_id: str | None
    title: str | None
    competency_id: uuid.UUID | None
    competency_code: str | None
    minutes: int
    part: int
    parts: int
    done: bool
    optional: bool
    lessons: list[str]
    """A revision's lessons: the course's current lessons that teach the competency."""


ITEMS = text(
    f"""
    SELECT it.position, it.day, it.kind, it.content_id,
           coalesce(i.title, comp.title) AS title, it.competency_id,
           comp.code AS competency_code, it.minutes, it.part, it.parts,
           {ITEM_DONE} AS done, {ITEM_OPTIONAL} AS optional,
           ARRAY(SELECT l.content_id FROM competency_links l
                 JOIN content_index li ON li.content_id = l.content_id
                  AND li.course_id = l.course_id AND li.status = 'active'
                  AND li.deleted_at IS NULL AND li.item_type = 'lesson'
                 WHERE l.competency_id = it.competency_id AND l.course_id = p.course_id
                   AND l.deleted_at IS NULL
                 ORDER BY li.position) AS lessons
    FROM study_plan_items it
    JOIN study_plan_versions v ON v.id = it.version_id
    JOIN study_plans p ON p.id = v.plan_id
    LEFT JOIN content_index i ON i.content_id = it.content_id
    LEFT JOIN competencies comp ON comp.id = it.competency_id
    WHERE it.version_id = :version
    ORDER BY it.position
    """
)


async def items_of(session: AsyncSession, *, version_id: uuid.UUID) -> list[ItemRow]:
    rows = await session.execute(ITEMS, {"version": version_id, "recovered": RECOVERED})
    return [ItemRow(**row) for row in rows.mappings()]
