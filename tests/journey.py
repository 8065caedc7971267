"""A full learner + admin journey through the public API: every kind of write a learner or
an admin makes, once. The audit-column and export-completeness tests walk the database
after it, table by table from the metadata, so a new table that the journey does not
reach fails them until the journey reaches it (or the table is declared). The content is
``journey_loaded`` (tests/conftest.py): the test folder with its framework and exams."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.assessment.test_attempts import QUIZ, RIGHT
from tests.exams.conftest import FREE_EXAM, answers_for
from tests.identity.helpers import PASSWORD, Account, sign_up
from tests.learning.helpers import enroll

FREE = "course:rest-basics"
PAID = "course:paid-course"


@dataclass(frozen=True)
class Journey:
    learner: Account
    admin: Account
    erased: Account
    deactivated: Account
    paid_enrollment: str


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def sign_in(client: httpx.AsyncClient, account: Account) -> Account:
    tokens = ok(
        await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
    )
    return Account(
        account.id, account.email, account.password, tokens["access_token"], tokens["refresh_token"]
    )


async def sit_the_exam(client: httpx.AsyncClient, learner: Account, admin: Account) -> Account:
    """The learner sits the free exam (start, autosave, submit); a teacher the admin
    appointed grades its expert task, which makes the result final. The teacher."""
    exam = ok(
        await client.post(f"/api/v1/exams/{FREE_EXAM}/attempts", headers=learner.headers), 201
    )
    answers = answers_for(exam, text="GET /books?page=2, because pages are resources")
    ok(
        await client.put(
            f"/api/v1/exam-attempts/{exam['id']}/answers",
            json={"answers": answers[:1]},
            headers=learner.headers,
        )
    )
    ok(
        await client.post(
            f"/api/v1/exam-attempts/{exam['id']}/submit",
            json={"answers": answers},
            headers={**learner.headers, "Idempotency-Key": "journey-exam-submit"},
        )
    )
    teacher = await sign_up(client)
    ok(
        await client.patch(
            f"/api/v1/admin/users/{teacher.id}", json={"role": "teacher"}, headers=admin.headers
        )
    )
    [task] = ok(await client.get("/api/v1/review/exam-tasks", headers=teacher.headers))["items"]
    ok(
        await client.post(
            f"/api/v1/review/exam-tasks/{task['id']}",
            json={"points": 2, "comment": "right, with reasons"},
            headers=teacher.headers,
        )
    )
    final = ok(await client.get(f"/api/v1/exam-attempts/{exam['id']}", headers=learner.headers))
    assert final["result"]["final"] is True, final
    return teacher


async def hand_in_homework(client: httpx.AsyncClient, learner: Account, teacher: Account) -> None:
    """The learner submits the practice with a file, the teacher returns it (a ticket
    opens), the learner submits a second version, the teacher reviews it by a rubric."""
    url = "/api/v1/practices/practice:rest-basics-task/submissions"
    upload = [("files", ("books.http", b"GET /books HTTP/1.1\n", "text/plain"))]
    first = ok(
        await client.post(url, data={"text": "GET /books"}, files=upload, headers=learner.headers),
        201,
    )
    [item] = ok(await client.get("/api/v1/review/submissions", headers=teacher.headers))["items"]
    download = await client.get(
        f"/api/v1/review/submissions/{item['id']}/files/{item['files'][0]['id']}",
        headers=teacher.headers,
    )
    assert download.content == b"GET /books HTTP/1.1\n", download.text
    review = f"/api/v1/review/submissions/{item['id']}"
    ok(await client.post(review, json={"action": "start"}, headers=teacher.headers))
    ok(
        await client.post(
            review,
            json={"action": "return", "what_to_fix": "Name the collection in the plural."},
            headers=teacher.headers,
        )
    )
    second = ok(
        await client.post(
            url,
            data={"text": "GET /books, POST /books"},
            headers={**learner.headers, "Idempotency-Key": "journey-homework-2"},
        ),
        201,
    )
    assert second["previous_id"] == first["id"], second
    [item] = ok(await client.get("/api/v1/review/submissions", headers=teacher.headers))["items"]
    rubric = [{"criterion": "Resources", "points": 4, "max_points": 5, "comment": "good"}]
    ok(
        await client.post(
            f"/api/v1/review/submissions/{item['id']}",
            json={"action": "review", "rubric": rubric, "comment": "well done"},
            headers=teacher.headers,
        )
    )


async def learner_and_admin(client: httpx.AsyncClient, admin: Account) -> Journey:
    """``admin`` is an account with the admin role (made however the caller likes)."""
    learner = await sign_up(client)
    keyed = {**learner.headers, "Idempotency-Key": "journey-progress-1"}

    # Sessions: refresh (rotation), profile, password change (ends every sign-in).
    ok(await client.post("/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token}))
    ok(await client.patch("/api/v1/users/me", json={"name": "Ada L."}, headers=learner.headers))
    new_password = PASSWORD + " again"
    ok(
        await client.post(
            "/api/v1/users/me/password",
            json={"current_password": PASSWORD, "new_password": new_password},
            headers=learner.headers,
        ),
        204,
    )
    learner = await sign_in(
        client,
        Account(learner.id, learner.email, new_password, "", ""),
    )

    # Learning: enroll, progress (keyed, bookmark, note), the quiz, completion, awards.
    await enroll(client, learner, FREE)
    for lesson in ("lesson:rest-basics-intro", "lesson:rest-basics-more"):
        ok(
            await client.put(
                f"/api/v1/progress/lessons/{lesson}",
                json={
                    "status": "started",
                    "bookmarked": True,
                    "note": "remember this",
                    "time_spent": {"session_id": str(uuid.uuid4()), "seconds": 45},
                },
                headers={**learner.headers, "Idempotency-Key": f"journey-{lesson}"},
            )
        )
        ok(
            await client.put(
                f"/api/v1/progress/lessons/{lesson}", json={"status": "completed"}, headers=keyed
            )
            if lesson.endswith("intro")
            else await client.put(
                f"/api/v1/progress/lessons/{lesson}",
                json={"status": "completed"},
                headers=learner.headers,
            )
        )
    # A failed attempt first: mastery falls, feedback tickets open; one is taken up.
    failed = ok(await client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=learner.headers), 201)
    ok(
        await client.post(
            f"/api/v1/quiz-attempts/{failed['id']}/submit",
            json={"answers": []},
            headers={**learner.headers, "Idempotency-Key": "journey-submit-failed"},
        )
    )
    tickets = ok(await client.get("/api/v1/users/me/feedback-tickets", headers=learner.headers))
    assert tickets["items"], "a failed quiz naming competencies opens tickets"
    ok(
        await client.patch(
            f"/api/v1/users/me/feedback-tickets/{tickets['items'][0]['id']}",
            json={"status": "in_progress"},
            headers=learner.headers,
        )
    )
    checked = ok(
        await client.post(
            "/api/v1/practices/practice:rest-basics-task/checks",
            json={"answer": "GET /books -> 200"},
            headers=learner.headers,
        )
    )
    assert checked["passed"] is True, "the practice's pattern check passes"
    ok(
        await client.put(
            "/api/v1/progress/practices/practice:rest-basics-task",
            json={"status": "completed"},
            headers=learner.headers,
        )
    )
    attempt = ok(
        await client.post(
            f"/api/v1/quizzes/{QUIZ}/attempts",
            headers={**learner.headers, "Idempotency-Key": "journey-start"},
        ),
        201,
    )["id"]
    ok(
        await client.put(
            f"/api/v1/quiz-attempts/{attempt}/answers",
            json={"answers": RIGHT[:1]},
            headers=learner.headers,
        )
    )
    graded = ok(
        await client.post(
            f"/api/v1/quiz-attempts/{attempt}/submit",
            json={"answers": RIGHT},
            headers={**learner.headers, "Idempotency-Key": "journey-submit"},
        )
    )
    assert graded["passed"] is True
    [enrollment] = ok(await client.get("/api/v1/enrollments", headers=learner.headers))["items"]
    assert enrollment["status"] == "completed"
    # A study plan for the exam (weak competencies to revise, then the sitting), remade.
    plan = ok(
        await client.post(
            "/api/v1/users/me/study-plans",
            json={
                "exam_id": FREE_EXAM,
                "target_date": (datetime.now(UTC).date() + timedelta(days=14)).isoformat(),
                "minutes_per_day": 30,
            },
            headers=learner.headers,
        ),
        201,
    )
    assert plan["items"][-1]["kind"] == "exam", plan
    ok(
        await client.post(
            f"/api/v1/users/me/study-plans/{plan['id']}/regenerate",
            json={"minutes_per_day": 45},
            headers=learner.headers,
        ),
        201,
    )
    teacher = await sit_the_exam(client, learner, admin)
    await hand_in_homework(client, learner, teacher)
    mine = ok(await client.get("/api/v1/users/me/achievements", headers=learner.headers))["items"]
    assert mine, "the journey should earn an achievement"
    ok(
        await client.post(
            f"/api/v1/users/me/achievements/{mine[0]['achievement']['id']}/seen",
            headers=learner.headers,
        ),
        204,
    )

    # Settings and the tutor (the caller points the app at a model server: ``tutor``).
    ok(
        await client.patch(
            "/api/v1/users/me/preferences", json={"language": "ru"}, headers=learner.headers
        )
    )
    chat = ok(
        await client.post(
            "/api/v1/chat/sessions",
            json={"course_id": FREE, "lesson_id": "lesson:rest-basics-more"},
            headers=learner.headers,
        ),
        201,
    )
    asked = await client.post(
        f"/api/v1/chat/sessions/{chat['id']}/messages",
        json={"content": "What is a resource?"},
        headers=learner.headers,
    )
    assert asked.status_code == 200, asked.text
    assert "event: done" in asked.text, asked.text
    ok(await client.post(f"/api/v1/chat/sessions/{chat['id']}/end", headers=learner.headers))

    # Admin: enroll the learner in a paid course, change the account; the learner cancels.
    paid = ok(
        await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": learner.id, "course_id": PAID},
            headers=admin.headers,
        ),
        201,
    )
    ok(
        await client.patch(
            f"/api/v1/admin/users/{learner.id}",
            json={"email_verified": True},
            headers=admin.headers,
        )
    )
    ok(await client.post(f"/api/v1/enrollments/{paid['id']}/cancel", headers=learner.headers))

    # Commerce: an admin defines a plan; the learner buys it on the sandbox's page.
    plan = {"code": "journey", "title": "All", "price_minor": 900, "currency": "USD"}
    ok(
        await client.post(
            "/api/v1/admin/plans", json={**plan, "period": "month"}, headers=admin.headers
        ),
        201,
    )
    bought = ok(
        await client.post(
            "/api/v1/checkout",
            json={
                "plan_code": "journey",
                "provider": "sandbox",
                "return_url": "https://learn.example/syllabus/back",
            },
            headers=learner.headers,
        ),
        201,
    )
    token = parse_qs(urlsplit(bought["confirmation_url"]).query)["token"][0]
    paid_page = await client.post(
        f"/api/v1/sandbox/payments/{bought['payment_id']}",
        data={"token": token, "action": "pay"},
    )
    assert paid_page.status_code == 200, paid_page.text
    [subscription] = ok(
        await client.get("/api/v1/users/me/subscriptions", headers=learner.headers)
    )["items"]
    assert subscription["status"] == "active"

    # Leaving: one learner erases their account, an admin deactivates another.
    erased = await sign_up(client)
    await enroll(client, erased, FREE)
    ok(await client.delete("/api/v1/users/me", headers=erased.headers), 204)
    deactivated = await sign_up(client)
    ok(await client.delete(f"/api/v1/admin/users/{deactivated.id}", headers=admin.headers), 204)
    ok(await client.post("/api/v1/auth/logout", json={"refresh_token": learner.refresh_token}), 204)
    return Journey(learner, admin, erased, deactivated, paid["id"])
