"""Holes found when the service was attacked ([1/8] items 1, 2, 3, 5, 6), each reproduced
through the public API on the real stores: the export must not hand out a key the review
policy still withholds, ``after_last_attempt`` must wait for the last attempt, an attempt
is only usable while its quiz is, a huge number is a 422, and an operator's soft delete
never turns a start into a 500."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import syllabus
from tests.assessment.test_attempts import QUIZ, RIGHT, start, submit
from tests.assessment.test_policies import reload_with
from tests.identity.helpers import Account

FREE = "course:rest-basics"
PAID = "course:paid-course"
PAID_QUIZ = "quiz:paid-course-check"
REVIEW_ONLY = frozenset({"correct_answer", "correct", "explanation", "points"})
"""What an attempt's snapshot says that the review policy may withhold: the key, and
which question was right (its points, too, tell that)."""
WRONG: list[dict[str, Any]] = [
    {"question_id": "question:bank-safe-method", "answer": "a"},
    {"question_id": "question:legacy-1", "answer": 404},
    {"question_id": "question:rest-basics-nouns", "answer": False},
]


async def exported_attempts(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/users/me/export", headers=account.headers)
    assert response.status_code == 200, response.text
    attempts: list[dict[str, Any]] = response.json()["quiz_attempts"]
    return attempts


async def exported_results(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/users/me/export", headers=account.headers)
    results: list[dict[str, Any]] = response.json()["quiz_results"]
    return results


async def void(session: AsyncSession, attempt: str) -> None:
    """What an operator does to void a broken attempt: soft-delete it."""
    await session.execute(
        text("UPDATE quiz_attempts SET deleted_at = statement_timestamp() WHERE id = :id"),
        {"id": attempt},
    )


def review_fields(attempt: dict[str, Any]) -> set[str]:
    """The review-only fields found on the attempt's graded questions."""
    questions = (attempt.get("details") or {}).get("questions", [])
    return {name for item in questions for name in item if name in REVIEW_ONLY}


def keys_in(attempt: dict[str, Any]) -> dict[str, Any]:
    """What an attacker reads off an exported attempt: question id → correct answer."""
    return {
        item["question_id"]: item["correct_answer"]
        for item in (attempt.get("details") or {}).get("questions", [])
        if "correct_answer" in item
    }


# -- 1. the export shows what the review policy allows, no more ----------------------------


async def test_the_export_does_not_hand_out_the_key_of_an_after_pass_quiz(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The reported attack: fail attempt 1 of an ``after_pass`` quiz, read the key from
    the export, score full marks on attempt 2."""
    await reload_with(loaded, mongo, catalog_sessions, review="after_pass")
    first = (await start(client, learner_in)).json()["id"]
    failed = await submit(client, learner_in, first, WRONG, "key-attack-1")
    assert failed.status_code == 200, failed.text
    assert failed.json()["passed"] is False
    assert failed.json()["review"] is None

    [exported] = await exported_attempts(client, learner_in)
    stolen = keys_in(exported)
    assert stolen == {}, "the export handed out the answer key"
    assert review_fields(exported) == set()
    # What the learner may always see: their own answers, the score and the dates.
    assert exported["details"]["answers"] == {a["question_id"]: a["answer"] for a in WRONG}
    assert (exported["score"], exported["max_score"], exported["passed"]) == (
        "0.0000",
        "3.0000",
        False,
    )
    assert exported["started_at"]
    assert exported["submitted_at"]
    assert [q["question_id"] for q in exported["details"]["questions"]] == [
        a["question_id"] for a in WRONG
    ]
    # Its result version says no more: the totals, each question's points possible only.
    [result] = await exported_results(client, learner_in)
    assert (result["version"], result["score"], result["passed"]) == (1, "0.0000", False)
    assert [set(entry) for entry in result["question_points"]] == [
        {"question_id", "version", "max_points"}
    ] * 3

    # Passed honestly, the review opens, in the export as on the attempt.
    second = (await start(client, learner_in)).json()["id"]
    assert (await submit(client, learner_in, second, RIGHT, "key-attack-2")).json()["passed"]
    exported_after = await exported_attempts(client, learner_in)
    assert [keys_in(a) != {} for a in exported_after] == [True, True]
    assert keys_in(exported_after[0])["question:bank-safe-method"]["correct"] == "b"
    results = await exported_results(client, learner_in)
    assert [[entry["correct"] for entry in r["question_points"]] for r in results] == [
        [False] * 3,
        [True] * 3,
    ]


@pytest.mark.parametrize("policy", ["never", "after_submit"])
async def test_the_export_follows_never_and_after_submit(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    policy: str,
) -> None:
    await reload_with(loaded, mongo, catalog_sessions, review=policy)
    attempt = (await start(client, learner_in)).json()["id"]
    [open_attempt] = await exported_attempts(client, learner_in)
    assert open_attempt["details"] is None  # nothing graded yet
    await submit(client, learner_in, attempt, RIGHT, "key-policy")
    [exported] = await exported_attempts(client, learner_in)
    assert (keys_in(exported) != {}) == (policy == "after_submit")
    assert review_fields(exported) == (REVIEW_ONLY if policy == "after_submit" else set())


# -- 2. after_last_attempt waits for the last attempt to be submitted ---------------------


async def test_after_last_attempt_stays_closed_while_the_last_attempt_is_open(
    client: httpx.AsyncClient,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Reported: on a 2-attempt quiz, start attempt 2, read attempt 1's review, submit
    attempt 2 with full marks."""
    await reload_with(loaded, mongo, catalog_sessions, review="after_last_attempt", max_attempts=2)
    first = (await start(client, learner_in)).json()["id"]
    await submit(client, learner_in, first, WRONG, "key-last-1")
    second = await start(client, learner_in)
    assert second.status_code == 201
    read = await client.get(f"/api/v1/quiz-attempts/{first}", headers=learner_in.headers)
    assert read.status_code == 200
    assert read.json()["review"] is None, "the review opened while the last attempt was open"
    assert keys_in((await exported_attempts(client, learner_in))[0]) == {}

    last = await submit(client, learner_in, second.json()["id"], WRONG, "key-last-2")
    assert last.json()["review"] is not None  # now no attempt is left
    read = await client.get(f"/api/v1/quiz-attempts/{first}", headers=learner_in.headers)
    assert read.json()["review"] is not None


async def test_after_last_attempt_does_not_count_a_voided_attempt(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner_in: Account,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await reload_with(loaded, mongo, catalog_sessions, review="after_last_attempt", max_attempts=2)
    first = (await start(client, learner_in)).json()["id"]
    await submit(client, learner_in, first, WRONG, "key-void-1")
    second = (await start(client, learner_in)).json()["id"]
    await void(session, second)
    read = await client.get(f"/api/v1/quiz-attempts/{first}", headers=learner_in.headers)
    assert read.json()["review"] is None  # one attempt of two submitted: one is left


# -- 3. an attempt is usable only while its quiz may be taken ------------------------------


async def test_a_cancelled_paid_enrollment_closes_its_open_attempt(
    client: httpx.AsyncClient, loaded: Path, learner: Account, admin: Account
) -> None:
    enrolled = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": PAID},
        headers=admin.headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    attempt = (await start(client, learner, PAID_QUIZ)).json()["id"]
    cancelled = await client.post(
        f"/api/v1/enrollments/{enrolled.json()['id']}/cancel", headers=learner.headers
    )
    assert cancelled.status_code == 200
    assert (
        await client.get(f"/api/v1/quizzes/{PAID_QUIZ}", headers=learner.headers)
    ).status_code == 403

    read = await client.get(f"/api/v1/quiz-attempts/{attempt}", headers=learner.headers)
    saved = await client.put(
        f"/api/v1/quiz-attempts/{attempt}/answers",
        json={"answers": RIGHT[:1]},
        headers=learner.headers,
    )
    submitted = await submit(client, learner, attempt, RIGHT, "key-after-cancel")
    again = await start(client, learner, PAID_QUIZ)
    for response in (read, saved, submitted, again):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "questions" not in response.json()
    # Their own record stays theirs: the list shows the attempt, open, ungraded.
    listed = (await client.get("/api/v1/quiz-attempts", headers=learner.headers)).json()["items"]
    assert [(a["id"], a["status"]) for a in listed] == [(attempt, "open")]

    # Enrolled again, they may carry on with the same attempt.
    assert (
        await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": learner.id, "course_id": PAID},
            headers=admin.headers,
        )
    ).status_code == 201
    paid_right = [
        {**RIGHT[0]},
        {**RIGHT[1]},
        {**RIGHT[2], "question_id": "question:paid-course-nouns"},
    ]
    finished = await submit(client, learner, attempt, paid_right, "key-re-enrolled")
    assert finished.status_code == 200, finished.text
    assert finished.json()["passed"] is True


# -- 5. a number too large for a float is a bad answer, not a crash ------------------------


async def test_a_four_hundred_digit_number_is_a_422(
    client: httpx.AsyncClient, learner_in: Account
) -> None:
    attempt = (await start(client, learner_in)).json()["id"]
    huge = [{"question_id": "question:legacy-1", "answer": 10**400}]
    for response in (
        await client.put(
            f"/api/v1/quiz-attempts/{attempt}/answers",
            json={"answers": huge},
            headers=learner_in.headers,
        ),
        await submit(client, learner_in, attempt, huge, "key-huge-number"),
        await client.put(
            f"/api/v1/quiz-attempts/{attempt}/answers",
            json={"answers": [{**huge[0], "answer": -(10**400)}]},
            headers=learner_in.headers,
        ),
    ):
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "answers[0].answer"
        assert error["question_id"] == "question:legacy-1"
    # Nothing was saved or sealed: the attempt is open and takes a sane answer.
    fine = await submit(client, learner_in, attempt, RIGHT, "key-after-huge")
    assert fine.status_code == 200


# -- 6. an operator's soft delete voids an attempt; a later start is never a 500 -----------


async def test_a_soft_deleted_open_attempt_is_void_and_starts_go_on(
    client: httpx.AsyncClient, session: AsyncSession, learner_in: Account
) -> None:
    first = (await start(client, learner_in)).json()
    assert first["attempt_no"] == 1
    await void(session, first["id"])
    numbers = []
    for n in range(3):  # max_attempts 3: the voided attempt does not count
        started = await start(client, learner_in)
        assert started.status_code == 201, started.text
        numbers.append(started.json()["attempt_no"])
        await submit(client, learner_in, started.json()["id"], WRONG, f"key-void-{n}")
    assert numbers == [2, 3, 4]  # numbers are never reused
    refused = await start(client, learner_in)
    assert refused.status_code == 409
    assert refused.json()["attempts_used"] == 3
    gone = await client.get(f"/api/v1/quiz-attempts/{first['id']}", headers=learner_in.headers)
    assert gone.status_code == 404
    listed = (
        await client.get(
            "/api/v1/quiz-attempts", params={"quiz_id": QUIZ}, headers=learner_in.headers
        )
    ).json()["items"]
    assert [a["attempt_no"] for a in listed] == [2, 3, 4]


def test_only_the_review_module_reads_a_key_out_of_a_snapshot() -> None:
    """DECISIONS 14: the decision lives in one place; a new surface (tickets, AI context,
    regrade reports) that read ``correct_answer`` itself would bypass it."""
    source = Path(syllabus.__file__).parent
    reading = re.compile(r"""\[\s*["']correct_answer["']\s*\]|get\(\s*["']correct_answer["']""")
    readers = {
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if reading.search(path.read_text())
    }
    assert readers == {"assessment/review.py"}
