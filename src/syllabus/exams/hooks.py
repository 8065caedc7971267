"""What exams ask of a domain beside them, through a hook ``main.wire`` registers (the
import contract keeps ``exams`` and ``competencies`` apart; see kit/hooks.py).

An adaptive exam (docs/exams.md, "Adaptive variants") needs the learner's mastery of the
competencies its pool questions name. The handler answers by filling ``into``: a hook
carries no return value, and a dict the caller owns keeps the handler to plain data."""

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.kit.hooks import Hook

mastery_wanted: Hook[[AsyncSession, uuid.UUID, Collection[str], dict[str, Decimal]]] = Hook(
    "exams.mastery_wanted", required=True
)
"""Fired with (session, learner, competency codes, into): the handler puts in ``into``
the learner's mastery (0 to 1) of each of those codes they have one for, and nothing
for a competency never observed."""
