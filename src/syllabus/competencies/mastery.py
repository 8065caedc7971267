"""The one mastery method, its gap levels and the ticket rules, written once (the SQL of
the gap level is generated from the same numbers; docs/competencies.md has a worked
example).

**Decaying average.** Each graded event (a sealed quiz attempt, an exam, a reviewed
submission) gives each competency it touches one observation: the share of points
earned on that competency's items in the event, from 0 to 1. The first observation is
the mastery; each later one moves it

    mastery = WEIGHT * share + (1 - WEIGHT) * previous mastery

so the most recent evidence counts most (Canvas outcomes' "decaying average", 65 %).

**Gap level** 1 (no gap) to 5 (a large gap), from the mastery: 1 from 0.90, 2 from 0.75,
3 from 0.50, 4 from 0.25, else 5.

**Tickets.** A graded item that lost points opens a ticket for each competency it names
whose mastery, after the event, is below :data:`RECOVERED`; an open ticket of a
competency whose mastery reaches :data:`RECOVERED` is closed (``done``) in the same
transaction. Priority 1 (high) for gap levels 4 and 5, 2 for level 3, 3 below.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

WEIGHT = Decimal("0.65")
"""The weight of the newest observation."""

GAP_FLOORS = (
    (Decimal("0.90"), 1),
    (Decimal("0.75"), 2),
    (Decimal("0.50"), 3),
    (Decimal("0.25"), 4),
)
"""(lowest mastery, gap level), best first; below the last floor the gap level is 5."""
WORST_GAP = 5

RECOVERED = Decimal("0.75")
"""Mastery at which a competency's open tickets close themselves (gap level 2 or better)."""

PRECISION = Decimal("0.0001")


def observe(previous: Decimal | None, share: Decimal) -> Decimal:
    """The mastery after one more observation."""
    if previous is None:
        return share.quantize(PRECISION, ROUND_HALF_EVEN)
    return (WEIGHT * share + (1 - WEIGHT) * previous).quantize(PRECISION, ROUND_HALF_EVEN)


def replay(shares: Iterable[Decimal]) -> list[Decimal]:
    """The mastery after each observation in turn, from none: what a regrade recomputes
    when it corrects an earlier observation's share."""
    after: list[Decimal] = []
    for share in shares:
        after.append(observe(after[-1] if after else None, share))
    return after


def gap_level(mastery: Decimal) -> int:
    return next((level for floor, level in GAP_FLOORS if mastery >= floor), WORST_GAP)


def priority(gap: int) -> int:
    """1 (fix first) to 3, from the gap level."""
    return 1 if gap >= 4 else 2 if gap == 3 else 3


GAP_LEVEL_SQL = (
    "CASE "
    + " ".join(f"WHEN mastery >= {floor} THEN {level}" for floor, level in GAP_FLOORS)
    + f" ELSE {WORST_GAP} END"
)
""":func:`gap_level` in SQL: the generated column ``competency_mastery.gap_level``."""

MASTERY_SQL = f"round({WEIGHT} * excluded.mastery + (1 - {WEIGHT}) * competency_mastery.mastery, 4)"
""":func:`observe` in SQL, for the upsert that records an observation (``excluded`` holds
the new share)."""
