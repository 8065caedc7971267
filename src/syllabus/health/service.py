"""Readiness asks each store a trivial question with a deadline, concurrently, so a
hung store makes the probe fail fast instead of hanging the probe itself."""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Literal

from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

StoreState = Literal["ok", "unavailable"]


async def _answers(store: str, probe: Awaitable[object], *, timeout_seconds: float) -> StoreState:
    try:
        await asyncio.wait_for(probe, timeout=timeout_seconds)
    except Exception as error:  # any failure to answer in time means "not ready"
        logger.warning("readiness: %s is not answering: %r", store, error)
        return "unavailable"
    return "ok"


async def _ping_postgres(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check_stores(
    *,
    engine: AsyncEngine,
    mongo: AsyncDatabase[dict[str, object]],
    timeout_seconds: float,
) -> dict[str, StoreState]:
    postgres, mongodb = await asyncio.gather(
        _answers("postgresql", _ping_postgres(engine), timeout_seconds=timeout_seconds),
        _answers("mongodb", mongo.command("ping"), timeout_seconds=timeout_seconds),
    )
    return {"postgresql": postgres, "mongodb": mongodb}
