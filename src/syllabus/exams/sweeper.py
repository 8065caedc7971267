"""The background sealer: each API process seals the exam attempts whose learners walked
away, every ``SYLLABUS_EXAM_SWEEP_SECONDS``. Due rows are taken ``FOR UPDATE SKIP
LOCKED`` (:func:`syllabus.exams.service.seal_due`), so any number of processes, and
``syllabus exams seal-due`` from cron, never seal one attempt twice."""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.db.sql import session_scope
from syllabus.exams.service import seal_due

logger = logging.getLogger(__name__)


async def seal_all_due(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Seal every due attempt, a batch per transaction; how many were sealed."""
    sealed = 0
    while True:
        async with session_scope(sessionmaker) as session:
            count = await seal_due(session=session)
        sealed += count
        if count == 0:
            return sealed


async def sweep_forever(sessionmaker: async_sessionmaker[AsyncSession], *, every: float) -> None:
    """Until cancelled. A failed round (a store down) is logged and the next one tries
    again: the sealer never dies of an outage."""
    while True:
        await asyncio.sleep(every)
        try:
            sealed = await seal_all_due(sessionmaker)
        except Exception:
            logger.exception("exam sweeper: this round failed; trying again in %s s", every)
        else:
            if sealed:
                logger.info("exam sweeper: %d attempts sealed at their deadline", sealed)
