"""May this learner see the review of this attempt now? The one answer (DECISIONS 14).

Every surface that shows a learner anything of a graded attempt asks here, and shows
the key, which question was right, or the explanations only when this says so: the
attempt API, the data export, and, as they come, feedback tickets, mastery evidence, AI
context and regrade reports. Their own answers, the score and the dates are always
theirs to see; :func:`learner_details` is the snapshot cut to what they may see.

The quiz's ``review`` policy, as the version the attempt showed had it:

- ``never``; ``after_submit``;
- ``after_pass``: once the learner has passed the quiz (``progress``'s rule), then for
  every attempt of it;
- ``after_last_attempt``: once no attempt is left: as many attempts *submitted* as the
  version allows and none open (with unlimited attempts: once passed, none open).
  Attempts an operator voided (soft-deleted) do not count, as they do not count toward
  the limit (docs/assessment.md).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.assessment import repository
from syllabus.assessment.schemas import ReviewItem
from syllabus.content import service as content
from syllabus.progress import service as progress

REVIEW_ONLY = frozenset({"correct_answer", "correct", "explanation", "points"})
"""What a question's graded snapshot says that only the review may show: the key, and
which question was right (its points earned tell that too)."""


class Reviewable(Protocol):
    """What the decision needs of an attempt (a row, or one read for an export)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def user_id(self) -> uuid.UUID: ...
    @property
    def quiz_content_id(self) -> str: ...
    @property
    def quiz_version(self) -> int | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class AttemptRef:
    """An attempt as plain data, when the caller holds a row rather than a model."""

    id: uuid.UUID
    user_id: uuid.UUID
    quiz_content_id: str
    quiz_version: int | None
    submitted_at: datetime | None


def _policy(quiz: Mapping[str, Any] | None) -> tuple[str, int | None]:
    """The policy and attempt limit of the version shown; a version that cannot be read
    shows nothing (``never``)."""
    if quiz is None:
        return "never", None
    limit = quiz.get("max_attempts")
    return str(quiz.get("review_policy", "after_submit")), None if limit is None else int(limit)


async def reviews_open(
    session: AsyncSession,
    attempts: Sequence[Reviewable],
    *,
    quizzes: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
) -> set[uuid.UUID]:
    """The attempts (of one learner) whose review the learner may see now.

    ``quizzes``: the quiz version each attempt showed, by attempt id, when the caller has
    it already; else it is read (one MongoDB query). Then at most two SQL queries however
    many attempts: the learner's attempts per quiz and the quizzes they passed."""
    shown = {a.id: (a.quiz_content_id, a.quiz_version) for a in attempts if a.quiz_version}
    sealed = [a for a in attempts if a.submitted_at is not None and a.id in shown]
    if not sealed:
        return set()
    if quizzes is None:
        found = await content.snapshots({shown[a.id] for a in sealed})
        quizzes = {a.id: found[shown[a.id]] for a in sealed if shown[a.id] in found}
    policy = {a.id: _policy(quizzes.get(a.id)) for a in sealed}
    user_ids = {a.user_id for a in sealed}
    assert len(user_ids) == 1, "one learner's attempts at a time"
    user_id = user_ids.pop()
    # Only what the policies at hand need: attempts counted for after_last_attempt,
    # the quiz-passed rule for after_pass (and after_last_attempt without a limit).
    counted = {a.quiz_content_id for a in sealed if policy[a.id][0] == "after_last_attempt"}
    needs_pass = {
        a.quiz_content_id
        for a in sealed
        if policy[a.id] == ("after_last_attempt", None) or policy[a.id][0] == "after_pass"
    }
    counts = await repository.attempt_counts(session, user_id=user_id, quiz_ids=sorted(counted))
    passed = await progress.passed_quizzes(session=session, user_id=user_id, quiz_ids=needs_pass)
    allowed = set()
    for attempt in sealed:
        name, limit = policy[attempt.id]
        quiz_id = attempt.quiz_content_id
        count = counts.get(quiz_id, repository.AttemptCounts(submitted=0, open=0))
        if (
            name == "after_submit"
            or (name == "after_pass" and quiz_id in passed)
            or (
                name == "after_last_attempt"
                and count.open == 0
                and (quiz_id in passed if limit is None else count.submitted >= limit)
            )
        ):
            allowed.add(attempt.id)
    return allowed


def learner_details(
    details: Mapping[str, Any] | None, *, review_open: bool
) -> dict[str, Any] | None:
    """An attempt's graded snapshot as the learner may see it now: whole when the review
    is open, else without what only the review shows (their answers, the questions as
    shown and the points possible stay)."""
    if details is None:
        return None
    if review_open or "questions" not in details:
        return dict(details)
    return {
        **details,
        "questions": [
            {name: value for name, value in item.items() if name not in REVIEW_ONLY}
            for item in details.get("questions", [])
        ],
    }


@dataclass(frozen=True)
class Regraded:
    """One question as a later result version graded it: its points, whether right, and
    the key of the question version that graded it (a corrected key)."""

    points: float
    max_points: float
    correct: bool
    correct_answer: dict[str, Any]


def review_items(
    details: Mapping[str, Any] | None, *, regraded: Mapping[str, Regraded] | None = None
) -> list[ReviewItem]:
    """The review of a graded snapshot, for a learner :func:`reviews_open` let see it;
    a question a regrade graded again shows that grade and the key it used."""
    items = []
    for item in (details or {}).get("questions", []):
        again = (regraded or {}).get(item["question_id"])
        items.append(
            ReviewItem(
                question_id=item["question_id"],
                your_answer=item["answer"],
                correct_answer=item["correct_answer"] if again is None else again.correct_answer,
                points=item["points"] if again is None else again.points,
                max_points=item["max_points"] if again is None else again.max_points,
                correct=item["correct"] if again is None else again.correct,
                explanation=item["explanation"],
            )
        )
    return items
