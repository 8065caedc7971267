"""Closed lists of words that more than one layer speaks, each written once as a
``Literal`` type: API schemas and documents use the type, tables derive their tuple and
CHECK constraint from it (:func:`values`, :func:`sql_in`). A list that only one package
speaks is defined in that package's ``models.py`` the same way.

Each is a named alias (``TypeAliasType``), so OpenAPI has one named enum per list
(``CourseLevel``), which generated clients turn into one type, not one per field."""

from typing import Any, Literal, get_args

from typing_extensions import TypeAliasType

CourseLevel = TypeAliasType(
    "CourseLevel", Literal["Beginner", "Elementary", "Intermediate", "Advanced", "Expert"]
)
PublicationStatus = TypeAliasType("PublicationStatus", Literal["draft", "published", "archived"])
"""Of a course (authors choose) and of every content document (the loader archives)."""
ItemType = TypeAliasType("ItemType", Literal["lesson", "quiz", "practice"])
"""What a course outline holds (a content_index row too)."""
ScoringPolicy = TypeAliasType("ScoringPolicy", Literal["highest", "last", "average"])
"""Which of a learner's attempts at a quiz count: authors choose, ``progress``'s
quiz-passed rule applies it."""
ExamType = TypeAliasType("ExamType", Literal["ЕГЭ", "ОГЭ", "custom"])
"""Of an exam, and of a course card that prepares for one (catalog filter ``exam_type``)."""
Rarity = TypeAliasType("Rarity", Literal["common", "uncommon", "rare", "epic", "legendary"])
"""Of an achievement: the loader validates it, ``progress`` stores it."""


def values(literal: Any) -> tuple[str, ...]:
    """The words of a ``Literal`` type (or of a named alias of one), in order."""
    return tuple(get_args(getattr(literal, "__value__", literal)))


def sql_in(column: str, words: tuple[str, ...]) -> str:
    """``column IN ('a', 'b')``: the CHECK constraint of a closed list."""
    return f"{column} IN ({', '.join(repr(word) for word in words)})"
