"""What the content loader hands to higher layers, as plain data, inside its catalog
transaction (see :mod:`syllabus.kit.hooks`; ``main.wire`` registers the handlers)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.kit.hooks import Hook


@dataclass(frozen=True)
class AchievementData:
    """An achievement as authored in achievements.json. The loader validates it; the
    package that awards achievements (``progress``) stores it and owns its rules."""

    code: str
    title: str
    description: str
    rarity: str
    rule: dict[str, Any]


achievements_loaded: Hook[[AsyncSession, str | None, list[AchievementData]]] = Hook(
    "content.achievements_loaded", required=True
)
"""Fired once per load that reaches PostgreSQL, with the folder's source (recorded on
each row: see content/sources.py) and every achievement of the folder."""


@dataclass(frozen=True)
class CompetencyData:
    """A competency as authored in competencies.json, with the lessons, practices and
    questions that name it (``links``: (content id, course content id) pairs). The loader
    validates the tree and the codes; ``competencies`` stores them and owns mastery."""

    code: str
    title: str
    description: str
    parent: str | None
    links: tuple[tuple[str, str], ...]


competencies_loaded: Hook[[AsyncSession, str | None, list[CompetencyData]]] = Hook(
    "content.competencies_loaded", required=True
)
"""Fired once per load that reaches PostgreSQL, with the folder's source and every
competency of the folder (``competencies`` records the source on each row)."""
