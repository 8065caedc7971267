"""[6/8] The teachers' review of homework: a queue that never names the learner, start,
review (score, rubric, comments) or return (what to fix); a review is mastery evidence
and marks the practice done, a return opens a feedback ticket; wrong steps are 409s
naming ``status``."""

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.competencies.helpers import FREE
from tests.homework.conftest import PAID_PRACTICE, PRACTICE, field_of, submit
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll
from tests.paging import id_pages

PAID_COURSE = "course:paid-course"


async def queue(client: httpx.AsyncClient, teacher: Account, status: str = "submitted") -> Any:
    response = await client.get(
        "/api/v1/review/submissions", params={"status": status}, headers=teacher.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def act(
    client: httpx.AsyncClient, teacher: Account, review_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/review/submissions/{review_id}", json=body, headers=teacher.headers
    )


async def test_return_then_resubmit_then_review(
    client: httpx.AsyncClient, session: AsyncSession, student: Account, teacher: Account
) -> None:
    first = await submit(
        client, student, text="GET /book/1", files=[("api.txt", b"GET /book/1\n", "text/plain")]
    )
    assert first.status_code == 201, first.text
    draft = await submit(client, teacher, text="not in any queue", draft=True)
    assert draft.status_code == 403  # the teacher is not enrolled: not a learner here
    raw = await client.get("/api/v1/review/submissions", headers=teacher.headers)
    for secret in (student.id, student.email, first.json()["id"]):
        assert secret not in raw.text
    [item] = raw.json()["items"]
    assert item["practice_id"] == PRACTICE
    assert item["course_id"] == FREE
    assert item["practice_title"] == "Design endpoints"
    assert item["status"] == "submitted"
    assert item["text"] == "GET /book/1"
    assert "user_id" not in item
    download = await client.get(
        f"/api/v1/review/submissions/{item['id']}/files/{item['files'][0]['id']}",
        headers=teacher.headers,
    )
    assert download.status_code == 200
    assert download.content == b"GET /book/1\n"

    started = await act(client, teacher, item["id"], action="start")
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_review"
    assert await queue(client, teacher) == []
    assert [i["id"] for i in await queue(client, teacher, "in_review")] == [item["id"]]
    again = await act(client, teacher, item["id"], action="start")
    assert again.status_code == 409
    assert field_of(again) == ["status"]

    fix = "Resources are plural nouns: GET /books/1."
    returned = await act(client, teacher, item["id"], action="return", what_to_fix=fix)
    assert returned.status_code == 200, returned.text
    mine = await client.get(f"/api/v1/submissions/{first.json()['id']}", headers=student.headers)
    assert mine.json()["status"] == "returned"
    assert mine.json()["review"]["what_to_fix"] == fix
    assert mine.json()["review"]["score"] is None
    tickets = (
        await client.get("/api/v1/users/me/feedback-tickets", headers=student.headers)
    ).json()["items"]
    [ticket] = [t for t in tickets if t["source"] == "submission"]
    assert ticket["description"] == fix
    assert ticket["competency"]["code"] == "rest.resources"
    assert ticket["container_id"] == PRACTICE
    assert ticket["status"] == "to_do"
    late = await act(client, teacher, item["id"], action="review", score=50)
    assert late.status_code == 409
    assert late.json()["code"] == "submission-status"
    assert late.json()["allowed"] == ["submitted", "in_review"]

    second = await submit(client, student, text="GET /books/1")
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2
    assert second.json()["previous_id"] == first.json()["id"]
    history = (await client.get("/api/v1/users/me/submissions", headers=student.headers)).json()[
        "items"
    ]
    assert [(s["version"], s["status"]) for s in history] == [(1, "returned"), (2, "submitted")]

    [item2] = await queue(client, teacher)
    rubric = [
        {"criterion": "Resources", "points": 5, "max_points": 5, "comment": "plural now"},
        {"criterion": "Status codes", "points": 3, "max_points": 5},
    ]
    reviewed = await act(
        client, teacher, item2["id"], action="review", rubric=rubric, comment="Better."
    )
    assert reviewed.status_code == 200, reviewed.text
    review = reviewed.json()["review"]
    assert review["score"] == 80.0  # 8 of 10 points
    assert [line["criterion"] for line in review["rubric"]] == ["Resources", "Status codes"]
    assert review["comment"] == "Better."
    competencies = (
        await client.get("/api/v1/users/me/competencies", headers=student.headers)
    ).json()["items"]
    [resources] = [c for c in competencies if c["code"] == "rest.resources"]
    assert resources["mastery"] == 0.8
    assert resources["evidence_count"] == 1
    tickets = (
        await client.get("/api/v1/users/me/feedback-tickets", headers=student.headers)
    ).json()["items"]
    [ticket] = [t for t in tickets if t["source"] == "submission"]
    assert ticket["status"] == "done"  # mastery 0.8 recovered past 0.75
    done = await session.execute(
        text(
            "SELECT count(*) FROM practice_progress WHERE user_id = :u AND practice_content_id = :p"
        ),
        {"u": student.id, "p": PRACTICE},
    )
    assert done.scalar_one() == 1  # a reviewed submission marks the practice done
    assert (
        await act(client, teacher, item2["id"], action="return", what_to_fix="x")
    ).status_code == 409


async def test_review_refusals_name_their_field(
    client: httpx.AsyncClient, student: Account, teacher: Account
) -> None:
    await submit(client, student, text="GET /books")
    [item] = await queue(client, teacher)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"action": "review", "score": 101}, ["review.score"]),
        ({"action": "review"}, ["score"]),
        (
            {
                "action": "review",
                "rubric": [{"criterion": "x", "points": 6, "max_points": 5}],
            },
            ["rubric[0].points"],
        ),
        ({"action": "return"}, ["return.what_to_fix"]),
        ({"action": "accept"}, ["action"]),
    ]
    for body, fields in cases:
        refused = await act(client, teacher, item["id"], **body)
        assert refused.status_code == 422, (body, refused.text)
        assert field_of(refused) == fields, (body, refused.text)
    missing = await act(client, teacher, "0190f6f6-0000-7000-8000-000000000000", action="start")
    assert missing.status_code == 404
    assert field_of(missing) == ["review_id"]
    as_student = await client.get("/api/v1/review/submissions", headers=student.headers)
    assert as_student.status_code == 403
    assert (await act(client, student, item["id"], action="start")).status_code == 403


async def test_a_teacher_cannot_review_their_own_work(
    client: httpx.AsyncClient, student: Account, teacher: Account
) -> None:
    await enroll(client, teacher, FREE)
    await submit(client, teacher, text="my own")
    [own] = await queue(client, teacher)
    refused = await act(client, teacher, own["id"], action="review", score=100)
    assert refused.status_code == 403
    assert refused.json()["code"] == "submission-own"


async def test_drafts_stay_out_of_the_queue(
    client: httpx.AsyncClient, student: Account, teacher: Account
) -> None:
    draft = await submit(client, student, text="thinking", draft=True)
    assert draft.status_code == 201
    assert await queue(client, teacher) == []
    await client.post(f"/api/v1/submissions/{draft.json()['id']}/submit", headers=student.headers)
    assert len(await queue(client, teacher)) == 1


async def _entitled(client: httpx.AsyncClient, admin: Account, course: str) -> Account:
    """A learner enrolled in ``course``, granted it first when it is paid."""
    account = await sign_up(client)
    if course != FREE:
        granted = await client.post(
            "/api/v1/admin/entitlements",
            json={"user_id": account.id, "course_id": course},
            headers=admin.headers,
        )
        assert granted.status_code in (200, 201), granted.text
    await enroll(client, account, course)
    return account


async def test_the_queue_filters_by_course_and_practice_in_keyset_pages(
    client: httpx.AsyncClient, student: Account, teacher: Account, admin: Account
) -> None:
    other = await _entitled(client, admin, FREE)
    paid = await _entitled(client, admin, PAID_COURSE)
    for account, practice in ((student, PRACTICE), (paid, PAID_PRACTICE), (other, PRACTICE)):
        sent = await submit(client, account, practice=practice, text=account.id)
        assert sent.status_code == 201, sent.text
    everything = [item["id"] for item in await queue(client, teacher)]
    assert len(everything) == 3

    async def pages(**params: str) -> list[list[str]]:
        return await id_pages(client, "/api/v1/review/submissions", teacher, **params)

    free = await pages(course_id=FREE)
    assert free == [[everything[0]], [everything[2]]]  # first submitted first, page by page
    assert await pages(course_id=PAID_COURSE) == [[everything[1]]]
    assert await pages(practice_id=PAID_PRACTICE) == [[everything[1]]]
    assert await pages(practice_id=PRACTICE, course_id=FREE) == free
    assert await pages(practice_id=PRACTICE, course_id=PAID_COURSE) == [[]]
    assert await pages(course_id="course:nothing") == [[]]
    for name, malformed in (("course_id", "rest-basics"), ("practice_id", "lesson:x")):
        refused = await client.get(
            "/api/v1/review/submissions", params={name: malformed}, headers=teacher.headers
        )
        assert refused.status_code == 422, refused.text
        assert field_of(refused) == [name]
