"""The deterministic study planner: the learner's remaining work, in order, laid out on
the days left at the lightest daily pace that still finishes before the target date.

It is a pure function of its inputs (no clock, no store, no randomness), so the same
request always gives the same plan and tests can state plans exactly. Anything that
implements :class:`Planner` can replace it (an AI planner, say): the service hands it
the same :class:`PlanRequest` and stores whatever :class:`Scheduled` items it returns.

The rules (docs/competencies.md, "Study plans"):

1. **Order.** Revision of weak competencies first, weakest first (lowest mastery, then
   code); then the course's unfinished lessons, practices and quizzes in outline order;
   then the exam sitting, when the plan is for an exam. The service builds the list in
   that order; the planner never reorders it.
2. **Pace.** The daily load is the smallest number of minutes, from
   ``min(minutes_per_day, MIN_DAILY_MINUTES)`` up to ``minutes_per_day``, at which the
   work fits the days left: a learner with time to spare gets an even, light plan that
   ends near the target date instead of a crammed first week.
3. **Days.** Items are laid out in order, each on the current day while it fits the
   daily load, else on the next day. An item longer than the daily load starts a day of
   its own and, when it can be split (a lesson, a practice, a revision), is cut into
   equal parts on consecutive days; a sitting (a timed quiz, an exam) cannot be split
   and takes one day of its own, the one case where a day holds more than
   ``minutes_per_day``.
4. **Optional items** (a practice; a lesson or quiz the course's ``completion`` does not
   require) are laid out in their place like the rest while the work fits; when it does
   not, they are left out of the plan from the last one back until it fits, so optional
   work never makes a plan refuse, nor takes the place of required work.
5. **Refusal.** When the required work does not fit even at ``minutes_per_day``,
   :class:`DoesNotFit` says the smallest daily minutes that would fit it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ItemKind = Literal["revision", "lesson", "practice", "quiz", "exam"]

MIN_DAILY_MINUTES = 30
"""The lightest daily load the planner paces down to (unless minutes_per_day is lower)."""


@dataclass(frozen=True)
class Work:
    """One thing left to do: what it is, how long it takes, whether it can be split
    across days (a sitting cannot)."""

    kind: ItemKind
    ref: str
    """The content id (lesson, practice, quiz, exam) or the competency code (revision)."""
    minutes: int
    splittable: bool
    optional: bool = False
    """Not needed to complete the course (rule 4): laid out only where there is room."""


@dataclass(frozen=True)
class PlanRequest:
    work: Sequence[Work]
    days: int
    """Days available: day 0 is the learner's today, the last is the day before the target."""
    minutes_per_day: int


@dataclass(frozen=True)
class Scheduled:
    work: Work
    day: int
    """Days after the plan's first day."""
    minutes: int
    part: int
    parts: int


@dataclass(frozen=True)
class Schedule:
    items: list[Scheduled]
    daily_minutes: int
    """The pace chosen: no day holds more, a lone sitting apart."""


class DoesNotFit(Exception):
    def __init__(self, needed_minutes_per_day: int | None) -> None:
        super().__init__(needed_minutes_per_day)
        self.needed_minutes_per_day = needed_minutes_per_day
        """None when no daily load fits (sittings alone outnumber the days)."""


class Planner(Protocol):
    def __call__(self, request: PlanRequest) -> Schedule: ...


def lay_out(work: Sequence[Work], cap: int) -> list[Scheduled]:
    """Rule 3 at a daily load of ``cap`` minutes, from day 0, as many days as it takes."""
    items: list[Scheduled] = []
    day, load = 0, 0
    for piece in work:
        if piece.minutes <= cap:
            if load + piece.minutes > cap:
                day, load = day + 1, 0
            items.append(Scheduled(piece, day, piece.minutes, 1, 1))
            load += piece.minutes
            continue
        if load:
            day, load = day + 1, 0
        parts = -(-piece.minutes // cap) if piece.splittable else 1
        base, extra = divmod(piece.minutes, parts)
        for part in range(parts):
            items.append(Scheduled(piece, day, base + (part < extra), part + 1, parts))
            day += 1
    return items


def days_used(items: Sequence[Scheduled]) -> int:
    return max((item.day for item in items), default=-1) + 1


def _smallest_fitting(work: Sequence[Work], low: int, high: int, days: int) -> int | None:
    """The smallest cap in ``[low, high]`` at which the work fits ``days`` (more cap never
    needs more days, so a binary search finds it), or None."""
    if low > high or days_used(lay_out(work, high)) > days:
        return None
    while low < high:
        middle = (low + high) // 2
        if days_used(lay_out(work, middle)) <= days:
            high = middle
        else:
            low = middle + 1
    return low


def sequential(request: PlanRequest) -> Schedule:
    """The planner of the rules above."""
    work, days, budget = request.work, request.days, request.minutes_per_day
    optional = [index for index, piece in enumerate(work) if piece.optional]
    for keep in range(len(optional), -1, -1):  # rule 4: the last optional items go first
        left_out = set(optional[keep:])
        kept = [piece for index, piece in enumerate(work) if index not in left_out]
        cap = _smallest_fitting(kept, min(budget, MIN_DAILY_MINUTES), budget, days)
        if cap is not None:
            return Schedule(items=lay_out(kept, cap), daily_minutes=cap)
    total = sum(piece.minutes for piece in kept)
    raise DoesNotFit(_smallest_fitting(kept, budget + 1, max(total, budget + 1), days))
