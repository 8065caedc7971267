"""Every grading rule, with its edge cases, on questions shaped as they are stored."""

from typing import Any

import pytest

from syllabus.assessment.grading import AnswerShapeError, grade, normalize_text


def options(*ids: str) -> list[dict[str, str]]:
    return [{"id": i, "text": f"Option {i}"} for i in ids]


SINGLE = {
    "type": "single_choice",
    "points": 2,
    "options": options("a", "b", "c"),
    "key": {"type": "single_choice", "correct": "b"},
}
MULTIPLE = {
    "type": "multiple_choice",
    "points": 3,
    "options": options("a", "b", "c", "d"),
    "key": {"type": "multiple_choice", "correct": ["a", "c"]},
}
TRUE_FALSE = {"type": "true_false", "points": 1, "key": {"type": "true_false", "correct": False}}
SHORT = {
    "type": "short_text",
    "points": 1,
    "key": {"type": "short_text", "accepted": ["Производная", "SELECT DISTINCT"]},
}
NUMERIC = {
    "type": "numeric",
    "points": 1,
    "key": {"type": "numeric", "value": 0.25, "tolerance": 0.001},
}
ORDERING = {
    "type": "ordering",
    "points": 6,
    "options": options("a", "b", "c", "d"),
    "key": {"type": "ordering", "order": ["c", "a", "d", "b"]},
}
MATCHING = {
    "type": "matching",
    "points": 4,
    "left": options("l1", "l2", "l3", "l4"),
    "right": options("r1", "r2", "r3", "r4"),
    "key": {"type": "matching", "pairs": {"l1": "r1", "l2": "r2", "l3": "r3", "l4": "r4"}},
}


@pytest.mark.parametrize(
    ("question", "answer", "points", "correct"),
    [
        (SINGLE, "b", 2, True),
        (SINGLE, "a", 0, False),
        (TRUE_FALSE, False, 1, True),
        (TRUE_FALSE, True, 0, False),
        # multiple choice: (right - wrong) / correct options, never below 0
        (MULTIPLE, ["a", "c"], 3, True),
        (MULTIPLE, ["a"], 1.5, False),
        (MULTIPLE, ["a", "c", "b"], 1.5, False),
        (MULTIPLE, ["a", "b", "c", "d"], 0, False),
        (MULTIPLE, ["b", "d"], 0, False),
        (MULTIPLE, [], 0, False),
        # short text: NFC, case and whitespace insensitive
        (SHORT, "  производная ", 1, True),
        (SHORT, "select   distinct", 1, True),
        (SHORT, "ПРОИЗВОДНАЯ", 1, True),
        (SHORT, "производная функции", 0, False),
        # numeric: tolerance is inclusive
        (NUMERIC, 0.25, 1, True),
        (NUMERIC, 0.251, 1, True),
        (NUMERIC, 0.2511, 0, False),
        (NUMERIC, 1, 0, False),
        # ordering: share of pairs in the right relative order (6 pairs here)
        (ORDERING, ["c", "a", "d", "b"], 6, True),
        (ORDERING, ["a", "c", "d", "b"], 5, False),
        (ORDERING, ["b", "d", "a", "c"], 0, False),
        # matching: share of left items matched
        (MATCHING, {"l1": "r1", "l2": "r2", "l3": "r3", "l4": "r4"}, 4, True),
        (MATCHING, {"l1": "r1", "l2": "r2", "l3": "r4", "l4": "r3"}, 2, False),
        (MATCHING, {"l1": "r2", "l2": "r2", "l3": "r2", "l4": "r2"}, 1, False),
    ],
)
def test_grading_rules(question: dict[str, Any], answer: Any, points: float, correct: bool) -> None:
    result = grade(question, answer)
    assert (result.points, result.correct) == (points, correct)
    assert result.max_points == question["points"]


def test_unanswered_earns_nothing() -> None:
    assert grade(SINGLE, None).points == 0


def test_composed_and_decomposed_unicode_match() -> None:
    composed = "й"  # U+0439
    decomposed = "и\u0306"  # и + combining breve
    assert normalize_text(composed) == normalize_text(decomposed)
    question = {**SHORT, "key": {"type": "short_text", "accepted": [f"{composed}од"]}}
    assert grade(question, f"{decomposed}од").correct


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (SINGLE, "z"),
        (SINGLE, ["b"]),
        (MULTIPLE, "a"),
        (MULTIPLE, ["a", "a"]),
        (MULTIPLE, ["a", "z"]),
        (TRUE_FALSE, "false"),
        (TRUE_FALSE, 0),
        (SHORT, 42),
        (SHORT, "x" * 1001),
        (NUMERIC, "0.25"),
        (NUMERIC, True),
        (NUMERIC, float("nan")),
        (ORDERING, ["c", "a", "d"]),
        (ORDERING, ["c", "a", "d", "d"]),
        (MATCHING, {"l1": "r1"}),
        (MATCHING, {"l1": "r1", "l2": "r2", "l3": "r3", "l4": "r9"}),
        (MATCHING, ["r1", "r2", "r3", "r4"]),
    ],
)
def test_answers_of_the_wrong_shape_are_refused(question: dict[str, Any], answer: Any) -> None:
    with pytest.raises(AnswerShapeError):
        grade(question, answer)
