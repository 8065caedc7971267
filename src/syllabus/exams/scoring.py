"""The pure parts of an exam: drawing a variant, scoring a task, the primary → test
scale, and the canonical hashes of the answer log and the sealed sheet. No I/O, so every
number can be recomputed from what an attempt recorded.

Task points: an auto-graded task earns the share of its question that assessment's
grading rules give (:func:`syllabus.assessment.grading.grade`), times the task's
``max_points``, rounded to 4 decimals; an expert task earns the points its grader chose.
The test score of a primary score ``p`` is ``scale[floor(p)]``; an exam without a scale
reports the percentage of the maximum, rounded half up.
"""

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from syllabus.assessment.grading import POINT_DIGITS, grade

GENESIS = "0" * 64
"""``prev_hash`` of an attempt's first answer event."""


def canonical(value: Any) -> bytes:
    """The one serialisation hashed: JSON, keys sorted, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def event_hash(prev_hash: str, *, seq: int, task: int, answer: Any, at: str) -> str:
    """The hash of one answer event, chained to the one before it."""
    return sha256({"prev": prev_hash, "seq": seq, "task": task, "answer": answer, "at": at})


Weak = Mapping[str, Mapping[str, float]]
"""Per pool question id, the learner's weak competencies it names and their mastery."""


def draw(exam: Mapping[str, Any], seed: int, *, weak: Weak | None = None) -> list[dict[str, Any]]:
    """The variant of ``seed``: for each task in order, one item of its pool (auto) or of
    its problems (expert). The same exam version and seed always give the same variant.

    An adaptive exam (``weak`` given, docs/exams.md "Adaptive variants") draws each auto
    task among the pool questions that name a weak competency of the learner's, when
    there are any, and records why: ``{"rule": "weak_competency", "weak": {code:
    mastery}, "among": [the candidates]}``, else ``{"rule": "uniform"}``. The random
    stream is consumed the same way either way (one choice per task), so ``replay``
    redraws a variant from its seed and its record alone."""
    rng = random.Random(seed)  # noqa: S311 (reproducible by design; the seed is secret)
    variant = []
    for task in exam["tasks"]:
        if task["grading"] == "auto":
            pool: list[str] = task["pool"]
            among = [q for q in pool if weak is not None and weak.get(q)]
            choice = rng.choice(among or pool)
            entry: dict[str, Any] = {"task": task["number"], "question_id": choice}
            why: dict[str, Any] = {"rule": "uniform"}
            if among and weak is not None:
                why = {"rule": "weak_competency", "weak": dict(weak[choice]), "among": among}
        else:
            entry = {"task": task["number"], "problem_id": rng.choice(task["problems"])["id"]}
            why = {"rule": "uniform"}
        if weak is not None:
            entry["why"] = why
        variant.append(entry)
    return variant


def replay(exam: Mapping[str, Any], seed: int, variant: Sequence[Mapping[str, Any]]) -> list[str]:
    """The items ``seed`` draws given what ``variant`` recorded (each task's ``among``
    when it was narrowed, else its whole pool or problems): equal to the variant's own
    items when it was drawn from that seed."""
    rng = random.Random(seed)  # noqa: S311
    drawn = []
    for task, entry in zip(exam["tasks"], variant, strict=True):
        among = (entry.get("why") or {}).get("among")
        if task["grading"] == "auto":
            drawn.append(rng.choice(among or task["pool"]))
        else:
            drawn.append(rng.choice(task["problems"])["id"])
    return drawn


def weak_items(
    competencies: Mapping[str, Sequence[str]], mastery: Mapping[str, float], *, below: float
) -> dict[str, dict[str, float]]:
    """Per question, the competencies it names whose mastery is below ``below`` (a
    competency never observed is not known to be weak)."""
    return {
        question: {c: mastery[c] for c in codes if c in mastery and mastery[c] < below}
        for question, codes in competencies.items()
    }


def auto_points(question: Mapping[str, Any], answer: Any, *, max_points: int) -> float:
    """Assessment's share for this answer, scaled to the task's points."""
    result = grade(dict(question), answer)
    share = result.points / result.max_points if result.max_points else 0.0
    return round(share * max_points, POINT_DIGITS)


def max_primary(exam: Mapping[str, Any]) -> int:
    return sum(int(task["max_points"]) for task in exam["tasks"])


def test_score(exam: Mapping[str, Any], primary: float) -> int:
    scale: Sequence[int] = exam.get("scale") or []
    if scale:
        return int(scale[min(math.floor(primary + 1e-9), len(scale) - 1)])
    top = max_primary(exam)
    return math.floor(100 * primary / top + 0.5) if top else 0


DEFAULT_THRESHOLD = 2
"""The discrepancy (in points) that calls a third grader when an exam does not say: the
ЕГЭ's for profile mathematics."""


def settle(marks: Sequence[int], *, needed: int, threshold: int) -> tuple[int | None, int]:
    """An expert task's final points from its marks in seat order (``None`` while more
    are needed), and how many marks it needs now. One mark needed: it is final. Two: if
    they differ by ``threshold`` or more a third is needed, else the higher counts. Three:
    the third's is final."""
    if len(marks) < needed:
        return None, needed
    if needed == 1:
        return marks[0], 1
    if needed == 2:
        first, second = marks[0], marks[1]
        if abs(first - second) >= threshold:
            return None, 3
        return max(first, second), 2
    return marks[2], 3


def passed(exam: Mapping[str, Any], score: int) -> bool:
    """Reaching the passing test score (an exam without one is passed by anyone)."""
    bar = exam.get("passing_score")
    return bar is None or score >= int(bar)
