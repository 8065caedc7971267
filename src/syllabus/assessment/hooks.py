"""What grading hands to higher layers, as plain data, in the transaction that seals the
graded work or regrades it (see :mod:`syllabus.kit.hooks`; ``main.wire`` registers the
handlers).

``competencies`` moves mastery and opens feedback tickets from it; exams fire the same
hooks for their graded tasks (``source="exam"``), and an automatic practice check hands
its outcome to the same handler (``source="check"``), so one rule serves all three."""

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.kit.hooks import Hook

GradedSource = Literal["quiz", "exam", "check", "submission"]
"""``submission``: a reviewed homework submission (``homework`` hands it to the same
handler, directly: it sits above ``competencies``)."""


@dataclass(frozen=True)
class GradedItem:
    """One graded question (or exam task) at the exact version shown, with the codes of
    the competencies its content names."""

    item_id: str
    version: int
    points: float
    max_points: float
    competencies: tuple[str, ...]


@dataclass(frozen=True)
class GradedWork:
    """One sealed attempt: whose, which quiz (or exam) at which version, its items."""

    source: GradedSource
    attempt_id: uuid.UUID
    user_id: uuid.UUID
    container_id: str
    container_version: int
    title: str
    course_id: uuid.UUID | None
    items: tuple[GradedItem, ...]
    detail: str = ""
    """What went wrong, in the learner's words, where telling it gives nothing away (an
    automatic practice check's message); tickets quote it."""


items_graded: Hook[[AsyncSession, list[GradedWork]]] = Hook(
    "assessment.items_graded", required=True
)
"""Fired once per seal (one learner's attempts), after the attempts are written."""


items_regraded: Hook[[AsyncSession, list[GradedWork]]] = Hook(
    "assessment.items_regraded", required=True
)
"""Fired once per applied regrade with each changed attempt as its new result version
grades it (every item, changed or not): the evidence it gave is corrected and what
followed from it recomputed, as if it had been graded so from the start."""
