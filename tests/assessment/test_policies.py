"""Quiz settings in action: time limits, shuffling, review policies, scoring policies,
and achievements awarded once."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.assessment.test_attempts import QUIZ, RIGHT, start, submit
from tests.content.folder import write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import progress

FREE = "course:rest-basics"


async def reload_with(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    sessions: async_sessionmaker[AsyncSession],
    **quiz_settings: Any,
) -> None:
    path = folder / "courses" / "rest-basics" / "quizzes" / "check.json"
    quiz = json.loads(path.read_text(encoding="utf-8"))
    quiz.update(quiz_settings)
    write_json(path, quiz)
    achievements = [
        {
            "code": "first-lesson",
            "title": "First",
            "rule": {"type": "lessons_completed", "count": 1},
        },
        {"code": "perfect", "title": "Perfect", "rule": {"type": "quiz_perfect_score"}},
        {
            "code": "graduate",
            "title": "Graduate",
            "rule": {"type": "course_completed", "course": FREE},
        },
        {"code": "streak", "title": "Streak", "rule": {"type": "streak_days", "days": 1}},
    ]
    write_json(folder / "achievements.json", achievements)
    assert (await load_folder(folder, database=mongo, sessionmaker=sessions)).ok


async def test_time_limit_sets_a_deadline_and_shuffle_is_fixed_per_attempt(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await reload_with(loaded, mongo, catalog_sessions, time_limit_seconds=600, shuffle=True)
    attempt = (await start(client, learner_in)).json()
    assert attempt["deadline"] is not None
    from datetime import datetime

    started = datetime.fromisoformat(attempt["started_at"])
    deadline = datetime.fromisoformat(attempt["deadline"])
    assert (deadline - started).total_seconds() == 600
    order = [q["id"] for q in attempt["questions"]]
    assert sorted(order) == sorted(a["question_id"] for a in RIGHT)
    again = (
        await client.get(f"/api/v1/quiz-attempts/{attempt['id']}", headers=learner_in.headers)
    ).json()
    assert [q["id"] for q in again["questions"]] == order  # the same order on every read


@pytest.mark.parametrize(
    ("policy", "after_failing", "after_passing"),
    [("never", False, False), ("after_submit", True, True), ("after_pass", False, True)],
)
async def test_review_policies(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    policy: str,
    after_failing: bool,
    after_passing: bool,
) -> None:
    await reload_with(loaded, mongo, catalog_sessions, review=policy)
    failing = (await start(client, learner_in)).json()["id"]
    first = (await submit(client, learner_in, failing, RIGHT[:1], "key-fail")).json()
    assert (first["review"] is not None) == after_failing
    passing = (await start(client, learner_in)).json()["id"]
    second = (await submit(client, learner_in, passing, RIGHT, "key-pass")).json()
    assert (second["review"] is not None) == after_passing
    read = (await client.get(f"/api/v1/quiz-attempts/{failing}", headers=learner_in.headers)).json()
    # after_pass opens the review of earlier attempts too, once the quiz is passed
    assert (read["review"] is not None) == (policy != "never")


async def test_review_after_the_last_attempt(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await reload_with(loaded, mongo, catalog_sessions, review="after_last_attempt", max_attempts=2)
    first = (await start(client, learner_in)).json()["id"]
    first_reply = await submit(client, learner_in, first, RIGHT, "key-first")
    assert first_reply.status_code == 200, first_reply.text
    assert first_reply.json()["review"] is None
    second = (await start(client, learner_in)).json()["id"]
    assert (await submit(client, learner_in, second, RIGHT[:1], "key-second")).json()[
        "review"
    ] is not None


@pytest.mark.parametrize(
    ("policy", "percents", "passed"),
    [
        ("highest", [100, 0], True),
        ("last", [100, 0], False),
        ("last", [0, 100], True),
        ("average", [100, 0], False),  # 50 < 60
        ("average", [100, 34], True),  # 67 >= 60
    ],
)
async def test_scoring_policy_decides_the_result_that_counts(
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    policy: str,
    percents: list[int],
    passed: bool,
) -> None:
    # the pass mark and policy of the version each attempt showed, as sealing records them
    await reload_with(loaded, mongo, catalog_sessions, scoring=policy)
    for number, percent in enumerate(percents, start=1):
        await session.execute(
            text(
                "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no, started_at, "
                "submitted_at, score, max_score, passed, pass_percent, scoring_policy) "
                "VALUES (:u, :q, :n, statement_timestamp() - make_interval(mins => 10 - :n), "
                "statement_timestamp() - make_interval(mins => 9 - :n), CAST(:s AS numeric), 100, "
                "CAST(:s AS numeric) >= 60, 60, :p)"
            ),
            {"u": learner.id, "q": QUIZ, "n": number, "s": percent, "p": policy},
        )
    result = (
        await session.execute(text("SELECT quiz_passed(:u, :q)"), {"u": learner.id, "q": QUIZ})
    ).scalar_one()
    assert result is passed


def earned_codes(body: dict[str, Any]) -> list[str]:
    return [achievement["code"] for achievement in body["achievements_earned"]]


async def test_achievements_are_awarded_once_and_can_be_marked_seen(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await reload_with(loaded, mongo, catalog_sessions)
    first = (
        await progress(client, learner_in, "lesson:rest-basics-intro", status="completed")
    ).json()
    # Each write says what it caused. A write's own event does not count towards the
    # streak it might earn: the one-day streak comes with the second.
    assert (first["course_completed"], earned_codes(first)) == (False, ["first-lesson"])
    second = (
        await progress(client, learner_in, "lesson:rest-basics-more", status="completed")
    ).json()
    assert (second["course_completed"], earned_codes(second)) == (False, ["streak"])
    attempt = (await start(client, learner_in)).json()["id"]
    graded = (await submit(client, learner_in, attempt, RIGHT, "key-perfect")).json()
    assert graded["passed"] is True
    assert (graded["course_completed"], earned_codes(graded)) == (True, ["graduate", "perfect"])
    assert graded["achievements_earned"][0] == {
        "id": graded["achievements_earned"][0]["id"],
        "code": "graduate",
        "title": "Graduate",
        "description": "",
        "rarity": "common",
    }
    replay = await submit(client, learner_in, attempt, RIGHT, "key-perfect")  # awards nothing
    assert replay.json() == graded  # the first answer, effects included
    mine = (await client.get("/api/v1/users/me/achievements", headers=learner_in.headers)).json()[
        "items"
    ]
    codes = sorted(a["achievement"]["code"] for a in mine)
    assert codes == ["first-lesson", "graduate", "perfect", "streak"]
    assert {a["seen"] for a in mine} == {False}
    earned = (
        await session.execute(
            text("SELECT count(*) FROM activity_log WHERE verb = 'earned' AND actor_id = :u"),
            {"u": learner_in.id},
        )
    ).scalar_one()
    assert earned == 4
    target = mine[0]["achievement"]["id"]
    seen = await client.post(
        f"/api/v1/users/me/achievements/{target}/seen", headers=learner_in.headers
    )
    assert seen.status_code == 204
    mine = (await client.get("/api/v1/users/me/achievements", headers=learner_in.headers)).json()[
        "items"
    ]
    assert [a["seen"] for a in mine if a["achievement"]["id"] == target] == [True]
    other = await sign_up(client)
    stranger = await client.post(
        f"/api/v1/users/me/achievements/{target}/seen", headers=other.headers
    )
    assert stranger.status_code == 404
    catalog = (await client.get("/api/v1/achievements")).json()["items"]
    assert sorted(a["code"] for a in catalog) == ["first-lesson", "graduate", "perfect", "streak"]
    export = (await client.get("/api/v1/users/me/export", headers=learner_in.headers)).json()
    assert len(export["achievements"]) == 4
    assert len(export["quiz_attempts"]) == 1
