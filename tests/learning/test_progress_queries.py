"""The lesson progress PUT costs ONE PostgreSQL statement whatever it causes (a new row,
a re-save, a heartbeat, a completion that completes the course and earns achievements,
each refusal), and no MongoDB command: ``save_lesson_progress()`` applies the rules in
the database ([8/8]; it was five to nine statements). A keyed write adds the
Idempotency-Key's own four (idempotency/service.py)."""

import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.identity.helpers import sign_up
from tests.learning.helpers import enroll
from tests.querycount import counting

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"
HIDDEN_OR_ABSENT = "lesson:does-not-exist"


async def test_every_progress_write_is_one_statement(
    counted_app: FastAPI, engine: AsyncEngine, loaded: Path
) -> None:
    transport = httpx.ASGITransport(app=counted_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        account = await sign_up(http)
        await enroll(http, account, FREE)
        beat = {"session_id": str(uuid.uuid4()), "seconds": 30}
        writes: list[tuple[str, dict[str, object], int]] = [
            (INTRO, {"status": "started", "position": {"block": "b1"}}, 200),  # new row
            (INTRO, {"status": "started"}, 200),  # a re-save
            (INTRO, {"time_spent": beat}, 200),  # a heartbeat alone
            (INTRO, {"bookmarked": True, "note": "n"}, 200),
            (INTRO, {"status": "completed"}, 200),  # completes, earns first-lesson
            (MORE, {"status": "completed", "time_spent": beat}, 200),  # the last lesson
            (INTRO, {}, 422),  # nothing to save
            (INTRO, {"time_spent": {**beat, "seconds": 9_000}}, 422),  # ahead of the clock
            (HIDDEN_OR_ABSENT, {"status": "started"}, 404),
        ]
        answers = []
        for lesson, body, status in writes:
            async with counting(engine) as seen:
                response = await http.put(
                    f"/api/v1/progress/lessons/{lesson}", json=body, headers=account.headers
                )
            assert response.status_code == status, response.text
            assert len(seen["postgresql"]) == 1, (body, seen["postgresql"])
            assert seen["mongodb"] == [], body
            answers.append(response.json())
        assert answers[4]["achievements_earned"][0]["code"] == "first-lesson"
        assert answers[5]["time_spent_seconds"] == 30

        async with counting(engine) as keyed:
            response = await http.put(
                f"/api/v1/progress/lessons/{INTRO}",
                json={"status": "started"},
                headers={**account.headers, "Idempotency-Key": "queries-key-1"},
            )
        assert response.status_code == 200
        # the key's lock, its expired twin cleared, its lookup; the write; the stored answer
        assert len(keyed["postgresql"]) == 5, keyed["postgresql"]
        assert sum("save_lesson_progress" in s for s in keyed["postgresql"]) == 1
