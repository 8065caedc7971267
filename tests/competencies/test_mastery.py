"""[6/8] Competencies: the framework loads like categories, a graded quiz moves mastery
and opens feedback tickets in its own transaction, the learner sees gaps and what to
study, a teacher sees a course's learners counted by gap level, and neither surface
says which question was wrong before the review is open (DECISIONS 14)."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.competencies.mastery import GAP_FLOORS, RECOVERED, gap_level, observe, priority
from tests.competencies.helpers import (
    FREE,
    RIGHT,
    WRONG_METHOD,
    load,
    mine,
    name_competencies,
    take_quiz,
)
from tests.content.folder import write_json
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

# -- the method -------------------------------------------------------------------------------


def test_the_decaying_average_weighs_the_newest_evidence_most() -> None:
    first = observe(None, Decimal(0))
    assert first == Decimal("0.0000")
    second = observe(first, Decimal(1))
    assert second == Decimal("0.6500")
    assert observe(second, Decimal(1)) == Decimal("0.8775")
    assert [gap_level(m) for m in (Decimal(1), Decimal("0.9"), Decimal("0.8775"))] == [1, 1, 2]
    assert [gap_level(m) for m in (Decimal("0.65"), Decimal("0.3"), Decimal(0))] == [3, 4, 5]
    assert [priority(level) for level in range(1, 6)] == [3, 3, 2, 1, 1]
    assert GAP_FLOORS[1][0] == RECOVERED


async def test_the_generated_gap_level_is_the_python_rule(session: AsyncSession) -> None:
    for mastery in ("0", "0.2499", "0.25", "0.5", "0.7499", "0.75", "0.8999", "0.9", "1"):
        found = (
            await session.execute(
                text(
                    "SELECT CASE WHEN m >= 0.90 THEN 1 WHEN m >= 0.75 THEN 2 WHEN m >= 0.50 "
                    "THEN 3 WHEN m >= 0.25 THEN 4 ELSE 5 END FROM (SELECT CAST(:m AS numeric) AS m) x"
                ),
                {"m": mastery},
            )
        ).scalar_one()
        generation = (
            await session.execute(
                text(
                    "SELECT generation_expression FROM information_schema.columns "
                    "WHERE table_name = 'competency_mastery' AND column_name = 'gap_level'"
                )
            )
        ).scalar_one()
        assert "0.90" in generation
        assert "0.25" in generation
        assert found == gap_level(Decimal(mastery))


# -- the framework as content ------------------------------------------------------------------


async def test_the_framework_loads_with_its_tree_and_links(
    framed: Path, session: AsyncSession
) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT c.code, p.code FROM competencies c "
                "LEFT JOIN competencies p ON p.id = c.parent_id ORDER BY c.code"
            )
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("http", None),
        ("http.methods", "http"),
        ("http.status", "http"),
        ("rest.resources", None),
    ]
    links = (
        await session.execute(
            text(
                "SELECT c.code, l.content_id, k.content_id FROM competency_links l "
                "JOIN competencies c ON c.id = l.competency_id JOIN courses k ON k.id = l.course_id "
                "WHERE l.deleted_at IS NULL AND k.content_id = :course ORDER BY 1, 2"
            ),
            {"course": FREE},
        )
    ).all()
    assert [tuple(row) for row in links] == [
        ("http.methods", "lesson:rest-basics-more", FREE),
        ("http.methods", "question:bank-safe-method", FREE),
        ("http.status", "lesson:rest-basics-more", FREE),
        ("http.status", "question:legacy-1", FREE),
        ("rest.resources", "question:rest-basics-nouns", FREE),
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda root: write_json(
                root / "competencies.json", [{"code": "a", "title": "A", "parent": "nope"}]
            ),
            ("competencies.json", "[0].parent", "unknown competency 'nope'"),
        ),
        (
            lambda root: write_json(
                root / "competencies.json",
                [
                    {"code": "a", "title": "A", "parent": "b"},
                    {"code": "b", "title": "B", "parent": "a"},
                ],
            ),
            ("competencies.json", "[0].parent", "'a' is its own ancestor"),
        ),
        (
            lambda root: write_json(
                root / "competencies.json", [{"code": "Not A Code", "title": "A"}]
            ),
            ("competencies.json", "[0].code", "must look like a competency code"),
        ),
        (
            lambda root: write_json(
                root / "questions" / "extra.json",
                [
                    {
                        "id": "question:extra",
                        "type": "true_false",
                        "prompt": "?",
                        "correct": True,
                        "competencies": ["http.nope"],
                    }
                ],
            ),
            ("questions/extra.json", "[0].competencies[0]", "unknown competency 'http.nope'"),
        ),
    ],
)
async def test_the_loader_refuses_a_broken_framework_or_an_unknown_code(
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    change: Any,
    expected: tuple[str, str, str],
) -> None:
    from syllabus.content.loader.run import load_folder

    name_competencies(folder)
    change(folder)
    result = await load_folder(folder, database=mongo, sessionmaker=catalog_sessions)
    assert not result.ok
    found = [(p.file, p.field, p.message) for p in result.problems]
    assert any(
        file == expected[0] and field == expected[1] and expected[2] in message
        for file, field, message in found
    ), found


# -- mastery and tickets from a graded quiz ----------------------------------------------------


async def test_a_failed_question_opens_a_gap_and_a_ticket_that_recovery_closes(
    client: httpx.AsyncClient, student: Account
) -> None:
    await take_quiz(client, student, WRONG_METHOD, "comp-1")
    mastery = {row["code"]: row for row in await mine(client, student, "competencies")}
    assert {code: (row["mastery"], row["gap_level"]) for code, row in mastery.items()} == {
        "http.methods": (0.0, 5),
        "http.status": (1.0, 1),
        "rest.resources": (1.0, 1),
    }
    assert mastery["http.methods"]["evidence_count"] == 1
    assert mastery["http.methods"]["parent"] == "http"
    assert [lesson["id"] for lesson in mastery["http.methods"]["study"]] == [
        "lesson:rest-basics-more"
    ]
    [ticket] = await mine(client, student, "feedback-tickets")
    assert (ticket["status"], ticket["priority"], ticket["competency"]["code"]) == (
        "to_do",
        1,
        "http.methods",
    )
    assert ticket["container_id"] == "quiz:rest-basics-check"
    assert ticket["course_id"] == FREE
    assert [lesson["id"] for lesson in ticket["revise"]] == ["lesson:rest-basics-more"]
    assert ticket["item"] == {  # after_submit: the review is open
        "id": "question:bank-safe-method",
        "version": 1,
        "points": 0.0,
        "max_points": 1.0,
    }

    # A retry that fails again refreshes the open ticket, never a second one.
    await take_quiz(client, student, WRONG_METHOD, "comp-2")
    assert len(await mine(client, student, "feedback-tickets")) == 1

    # Two right answers: 0 -> 0.65 (gap 3, still open, priority 2) -> 0.8775 (closed).
    await take_quiz(client, student, RIGHT, "comp-3")
    [ticket] = await mine(client, student, "feedback-tickets")
    assert (ticket["status"], ticket["priority"]) == ("to_do", 1)
    await take_quiz(client, student, RIGHT, "comp-4")
    [ticket] = await mine(client, student, "feedback-tickets")
    assert ticket["status"] == "done"
    assert ticket["closed_at"] is not None
    mastery = {row["code"]: row for row in await mine(client, student, "competencies")}
    assert (mastery["http.methods"]["mastery"], mastery["http.methods"]["gap_level"]) == (
        0.8775,
        2,
    )
    assert mastery["http.methods"]["evidence_count"] == 4


async def test_the_evidence_points_at_the_exact_item_versions(
    client: httpx.AsyncClient, student: Account, session: AsyncSession
) -> None:
    attempt = await take_quiz(client, student, WRONG_METHOD, "comp-v")
    rows = (
        await session.execute(
            text(
                "SELECT item_id, item_version, container_id, container_version, source_id::text, "
                "points, max_points FROM competency_evidence ORDER BY item_id"
            )
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("question:bank-safe-method", 1, "quiz:rest-basics-check", 1, attempt["id"], 0, 1),
        ("question:legacy-1", 1, "quiz:rest-basics-check", 1, attempt["id"], 1, 1),
        ("question:rest-basics-nouns", 1, "quiz:rest-basics-check", 1, attempt["id"], 1, 1),
    ]


# -- answer secrecy (DECISIONS 14) --------------------------------------------------------------


async def test_tickets_and_the_export_name_the_question_only_once_the_review_is_open(
    client: httpx.AsyncClient,
    folder: Path,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The export-leak reproduction, for the new surfaces: fail an ``after_pass`` quiz and
    look for the failed question in the ticket, the competencies and the export."""
    name_competencies(folder, review="after_pass")
    await load(folder, mongo, catalog_sessions)
    learner = await sign_up(client)
    await enroll(client, learner, FREE)
    wrong_two = [*WRONG_METHOD[:1], {"question_id": "question:legacy-1", "answer": 404}, RIGHT[2]]
    failed = await take_quiz(client, learner, wrong_two, "secret-1")
    assert failed["passed"] is False
    assert failed["review"] is None

    tickets = await mine(client, learner, "feedback-tickets")
    assert [ticket["competency"]["code"] for ticket in tickets] == ["http.methods", "http.status"]
    assert [ticket["item"] for ticket in tickets] == [None, None]
    assert "question:" not in str(tickets)
    assert "question:" not in str(await mine(client, learner, "competencies"))
    export = (await client.get("/api/v1/users/me/export", headers=learner.headers)).json()
    for section in ("competency_evidence", "feedback_tickets", "competency_mastery"):
        assert export[section], section
        assert "question:" not in str(export[section]), section
        assert "'points'" not in str(export[section]), section

    # Passed: the review opens, and with it the question on the ticket and the evidence.
    await take_quiz(client, learner, RIGHT, "secret-2")
    tickets = await mine(client, learner, "feedback-tickets")
    assert [ticket["item"]["id"] for ticket in tickets] == [
        "question:bank-safe-method",
        "question:legacy-1",
    ]
    export = (await client.get("/api/v1/users/me/export", headers=learner.headers)).json()
    assert {row["item_id"] for row in export["competency_evidence"]} >= {
        "question:bank-safe-method"
    }


# -- the ticket routes ----------------------------------------------------------------------------


async def test_a_learner_moves_their_ticket_and_nobody_else_can(
    client: httpx.AsyncClient, student: Account
) -> None:
    await take_quiz(client, student, WRONG_METHOD, "move-1")
    [ticket] = await mine(client, student, "feedback-tickets")
    url = f"/api/v1/users/me/feedback-tickets/{ticket['id']}"
    moved = await client.patch(url, json={"status": "in_progress"}, headers=student.headers)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["closed_at"]) == ("in_progress", None)
    done = await client.patch(url, json={"status": "done"}, headers=student.headers)
    assert done.json()["closed_at"] is not None
    reopened = await client.patch(url, json={"status": "to_do"}, headers=student.headers)
    assert reopened.json()["closed_at"] is None

    bad = await client.patch(url, json={"status": "closed"}, headers=student.headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "status"
    extra = await client.patch(url, json={"status": "done", "priority": 3}, headers=student.headers)
    assert extra.status_code == 422
    other = await sign_up(client)
    stolen = await client.patch(url, json={"status": "done"}, headers=other.headers)
    assert stolen.status_code == 404
    assert stolen.headers["content-type"] == "application/problem+json"
    assert (await client.patch(url, json={"status": "done"})).status_code == 401


async def test_tickets_filter_by_status_course_and_competency(
    client: httpx.AsyncClient, student: Account
) -> None:
    await take_quiz(client, student, WRONG_METHOD, "filter-1")

    async def count(**params: str) -> int:
        response = await client.get(
            "/api/v1/users/me/feedback-tickets", params=params, headers=student.headers
        )
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert await count(status="to_do") == 1
    assert await count(status="done") == 0
    assert await count(course_id=FREE) == 1
    assert await count(course_id="course:paid-course") == 0
    assert await count(competency="http.methods") == 1
    assert await count(competency="http.status") == 0
    for bad in ({"status": "open"}, {"course_id": "rest"}, {"competency": "A B"}):
        response = await client.get(
            "/api/v1/users/me/feedback-tickets", params=bad, headers=student.headers
        )
        assert response.status_code == 422, bad


# -- the teacher's view --------------------------------------------------------------------------


async def test_a_teacher_sees_learners_counted_by_gap_level_never_named(
    client: httpx.AsyncClient, student: Account, teacher: Account, admin: Account
) -> None:
    await take_quiz(client, student, WRONG_METHOD, "teach-1")
    other = await sign_up(client)
    await enroll(client, other, FREE)  # enrolled, not assessed yet
    url = f"/api/v1/courses/{FREE}/competencies"
    for viewer in (teacher, admin):
        response = await client.get(url, headers=viewer.headers)
        assert response.status_code == 200, response.text
        overview = {row["code"]: row for row in response.json()["items"]}
        assert set(overview) == {"http.methods", "http.status", "rest.resources"}
        methods = overview["http.methods"]
        assert (methods["learners"], methods["not_assessed"]) == (2, 1)
        assert methods["gap_levels"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
        assert methods["average_mastery"] == 0.0
        assert student.email not in response.text
        assert other.email not in response.text
        assert student.id not in response.text
    assert (await client.get(url, headers=student.headers)).status_code == 403
    missing = await client.get("/api/v1/courses/course:nope/competencies", headers=teacher.headers)
    assert missing.status_code == 404
    draft = await client.get(
        "/api/v1/courses/course:draft-course/competencies", headers=teacher.headers
    )
    assert draft.status_code == 404  # a teacher is not staff: drafts stay hidden
    assert (await client.get(url)).status_code == 401
