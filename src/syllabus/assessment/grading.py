"""Grading, as pure functions of a question (as stored, with its key) and an answer.

Deterministic and side-effect free, so a grade can be recomputed from an attempt's
snapshot at any time. Every rule, with its partial credit, is documented here:

- ``single_choice``, ``true_false``: all or nothing.
- ``multiple_choice``: (right picks - wrong picks) / number of correct options, times the
  points, never below 0. Picking everything therefore earns nothing.
- ``short_text``: all or nothing; the answer and every accepted answer are compared after
  Unicode NFC normalisation, case folding and collapsing runs of whitespace.
- ``numeric``: all or nothing, within ``tolerance`` (inclusive) of ``value``.
- ``ordering``: the share of item pairs placed in the right relative order (a normalised
  Kendall score): a fully reversed order earns 0, one swapped neighbour pair loses 1 of
  n(n-1)/2 pairs.
- ``matching``: the share of left items matched to their right item.

Points are rounded to 4 decimals (the precision stored in PostgreSQL).
"""

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

POINT_DIGITS = 4
MAX_TEXT_ANSWER = 1000


class AnswerShapeError(ValueError):
    """The answer does not have the shape its question type needs."""


@dataclass(frozen=True)
class Grade:
    points: float
    max_points: float
    correct: bool


def normalize_text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def _option_ids(question: dict[str, Any], key: str = "options") -> set[str]:
    return {option["id"] for option in question.get(key, [])}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AnswerShapeError(message)


def _check_multiple(question: dict[str, Any], answer: Any) -> None:
    _require(
        isinstance(answer, list) and all(isinstance(a, str) for a in answer),
        "must be a list of option ids",
    )
    _require(
        len(set(answer)) == len(answer) and set(answer) <= _option_ids(question),
        "must list known option ids, each once",
    )


def _check_numeric(_question: dict[str, Any], answer: Any) -> None:
    _require(not isinstance(answer, bool) and isinstance(answer, int | float), "must be a number")
    try:  # JSON integers have no size limit; one beyond a float's range cannot be graded
        finite = math.isfinite(float(answer))
    except OverflowError:
        finite = False
    _require(finite, "must be a finite number")


def _check_matching(question: dict[str, Any], answer: Any) -> None:
    left, right = _option_ids(question, "left"), _option_ids(question, "right")
    _require(
        isinstance(answer, dict) and set(answer) == left, "must map every left id to a right id"
    )
    _require(
        all(isinstance(v, str) and v in right for v in answer.values()),
        "must map to known right ids",
    )


SHAPES: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "single_choice": lambda q, a: _require(
        isinstance(a, str) and a in _option_ids(q), "must be one option id"
    ),
    "multiple_choice": _check_multiple,
    "true_false": lambda _q, a: _require(isinstance(a, bool), "must be true or false"),
    "short_text": lambda _q, a: _require(
        isinstance(a, str) and len(a) <= MAX_TEXT_ANSWER,
        f"must be a string of at most {MAX_TEXT_ANSWER} characters",
    ),
    "numeric": _check_numeric,
    "ordering": lambda q, a: _require(
        isinstance(a, list) and sorted(map(str, a)) == sorted(_option_ids(q)),
        "must list every option id exactly once",
    ),
    "matching": _check_matching,
}


def check_shape(question: dict[str, Any], answer: Any) -> None:
    """Refuse answers that cannot be graded (unknown options, wrong types, repeats)."""
    SHAPES[question["type"]](question, answer)


def _multiple(key: dict[str, Any], answer: Any) -> float:
    correct, picked = set(key["correct"]), set(answer)
    return max(0.0, (len(picked & correct) - len(picked - correct)) / len(correct))


def _ordering(key: dict[str, Any], answer: Any) -> float:
    place = {item: index for index, item in enumerate(answer)}
    pairs = list(combinations(key["order"], 2))
    return sum(place[a] < place[b] for a, b in pairs) / len(pairs) if pairs else 1.0


SHARES: dict[str, Callable[[dict[str, Any], Any], float]] = {
    "single_choice": lambda key, a: float(a == key["correct"]),
    "true_false": lambda key, a: float(a == key["correct"]),
    "multiple_choice": _multiple,
    "short_text": lambda key, a: float(
        normalize_text(a) in {normalize_text(text) for text in key["accepted"]}
    ),
    "numeric": lambda key, a: float(abs(float(a) - key["value"]) <= key["tolerance"] + 1e-12),
    "ordering": _ordering,
    "matching": lambda key, a: (
        sum(a.get(k) == v for k, v in key["pairs"].items()) / len(key["pairs"])
    ),
}
"""The fraction of a question's points an answer earns, from 0 to 1, per type."""


def grade(question: dict[str, Any], answer: Any) -> Grade:
    """Grade one answer (``None`` = unanswered: 0 points). Raises AnswerShapeError."""
    max_points = float(question.get("points", 1.0))
    if answer is None:
        return Grade(points=0.0, max_points=max_points, correct=False)
    check_shape(question, answer)
    share = SHARES[question["type"]](question["key"], answer)
    return Grade(
        points=round(share * max_points, POINT_DIGITS), max_points=max_points, correct=share == 1.0
    )
