"""A regrade and a teacher's mark on the same attempt at the same moment, on two real
sessions that commit: whichever commits last, the latest result version holds every
committed mark and the regrade's corrected auto points."""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.exams import grading, service
from syllabus.identity.models import User
from tests.content.folder import write_json
from tests.exams.conftest import FREE_EXAM, exam_json, load
from tests.exams.test_grading import sealed
from tests.identity.helpers import set_role, sign_up
from tests.learning.helpers import enroll


async def _pid(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def blocked_or_done(app: FastAPI, task: asyncio.Task[Any], *, by: int) -> None:
    """Wait until ``task`` has finished or its session waits for a lock that the
    backend ``by`` holds (read from pg_stat_activity, never a fixed sleep)."""
    async with app.state.engine.connect() as probe:
        while not task.done():
            waiting = (
                await probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE :by = ANY(pg_blocking_pids(pid))"
                    ),
                    {"by": by},
                )
            ).scalar_one()
            await probe.rollback()
            if waiting:
                return
            await asyncio.sleep(0.01)


async def _setup(
    app: FastAPI,
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, object]],
) -> tuple[User, uuid.UUID, uuid.UUID]:
    """A sealed attempt with every auto task right (3 points) and the expert task
    pending, then task 1's key corrected so a regrade takes its point away; the teacher
    and the expert task's id."""
    learner, teacher = await sign_up(client), await sign_up(client)
    async with app.state.sessionmaker() as session, session.begin():
        await set_role(session, teacher, "teacher")
    await enroll(client, learner, "course:rest-basics")
    attempt = await sealed(client, learner)
    exam = exam_json("basics-exam")
    for question in exam["tasks"][0]["pool"]:
        question["value"] += 100
    write_json(folder / "courses/rest-basics/exams/basics-exam.json", exam)
    await load(folder, mongo, app.state.sessionmaker)
    async with app.state.sessionmaker() as session:
        grader = await session.get(User, uuid.UUID(teacher.id))
        grade_id = (
            await session.execute(
                text("SELECT id FROM exam_expert_grades WHERE attempt_id = :a"),
                {"a": attempt["id"]},
            )
        ).scalar_one()
    assert grader is not None
    return grader, uuid.UUID(attempt["id"]), grade_id


async def _mark(app: FastAPI, grader: User, grade_id: uuid.UUID) -> None:
    async with app.state.sessionmaker() as session:
        await grading.grade(
            session=session, grader=grader, grade_id=grade_id, points=2, comment="fine"
        )
        await session.commit()


async def _latest(app: FastAPI, attempt_id: uuid.UUID) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT primary_score, test_score, passed, final, task_points, version"
                    " FROM exam_results WHERE attempt_id = :a ORDER BY version DESC LIMIT 1"
                ),
                {"a": attempt_id},
            )
        ).one()
    return dict(row._mapping)


def _expected(latest: dict[str, Any]) -> None:
    """Task 1 lost its point in the regrade, the teacher gave the expert task 2."""
    assert latest["final"] is True, latest
    assert latest["task_points"] == {"1": 0.0, "2": 1.0, "3": 1.0, "4": 2.0}, latest
    assert (float(latest["primary_score"]), latest["test_score"], latest["passed"]) == (
        4.0,
        80,
        True,
    ), latest


async def test_a_mark_committed_while_a_regrade_computes_is_in_the_latest_result(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    journey_loaded: Path,
    mongo: AsyncDatabase[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The regrade has read the marks (the expert task pending) and is about to append
    its version when the teacher marks the task: the teacher must either commit before
    the regrade reads, or wait for it and build on its version."""
    grader, attempt_id, grade_id = await _setup(app, live_client, journey_loaded, mongo)
    marking: list[asyncio.Task[None]] = []
    regrade_pid: list[int] = []

    async def append_after_the_teacher(session: AsyncSession, **values: Any) -> Any:
        if values["reason"] == "regrade":  # the marks are read: the teacher marks now
            marking.append(asyncio.create_task(_mark(app, grader, grade_id)))
            await blocked_or_done(app, marking[0], by=regrade_pid[0])
        return await service.append_result(session, **values)

    monkeypatch.setattr(grading, "append_result", append_after_the_teacher)
    async with app.state.sessionmaker() as session:
        regrade_pid.append(await _pid(session))
        report = await grading.regrade(session=session, exam_id=FREE_EXAM, dry_run=False)
        assert [c.attempt_id for c in report.changed] == [attempt_id]
        await session.commit()
    await marking[0]
    _expected(await _latest(app, attempt_id))


async def test_a_regrade_started_while_a_mark_is_uncommitted_builds_on_it(
    live_client: httpx.AsyncClient,
    app: FastAPI,
    journey_loaded: Path,
    mongo: AsyncDatabase[dict[str, object]],
) -> None:
    """The teacher's mark (and its final result) is written but not committed when the
    regrade starts: the regrade waits for the commit and then counts the mark."""
    grader, attempt_id, grade_id = await _setup(app, live_client, journey_loaded, mongo)

    async def regrade() -> None:
        async with app.state.sessionmaker() as session:
            await grading.regrade(session=session, exam_id=FREE_EXAM, dry_run=False)
            await session.commit()

    async with app.state.sessionmaker() as session:
        await grading.grade(
            session=session, grader=grader, grade_id=grade_id, points=2, comment="fine"
        )
        regrading = asyncio.create_task(regrade())
        await blocked_or_done(app, regrading, by=await _pid(session))
        await session.commit()
    await regrading
    _expected(await _latest(app, attempt_id))
