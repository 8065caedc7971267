"""The learner-facing read API over loaded content: catalog, search, paging, access to
paid content, ETags, and answer keys that never leave the server."""

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from tests.conftest import PUBLIC_BASE_URL
from tests.content.test_loader import SEED
from tests.identity.helpers import Account, sign_up

ANSWER_FIELDS = frozenset(
    {"key", "correct", "accepted", "value", "tolerance", "pairs", "explanation", "answer"}
)
"""Fields of answer keys (``order`` too, but outlines legitimately order their modules)."""


@pytest.fixture
async def author(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await session.execute(
        text("UPDATE users SET role = 'author' WHERE id = :id"), {"id": account.id}
    )
    return account


async def enroll(session: AsyncSession, account: Account, course: str) -> None:
    """Enrolled and, as an admin enrollment does, entitled to the course."""
    for table, extra in (("enrollments", ""), ("entitlements", ", 'admin'")):
        await session.execute(
            text(
                f"INSERT INTO {table} (user_id, course_id{', source' if extra else ''}) "
                f"SELECT :u, id{extra} FROM courses WHERE content_id = :c"
            ),
            {"u": account.id, "c": course},
        )


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def walk_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in walk_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in walk_keys(item)}
    return set()


async def test_categories_and_tracks(client: httpx.AsyncClient, loaded: Path) -> None:
    assert (await client.get("/api/v1/categories")).json()["items"] == [
        {"slug": "programming", "name": "Programming"}
    ]
    assert (await client.get("/api/v1/tracks")).json()["items"] == [
        {"slug": "backend", "name": "Backend", "category": "programming", "description": ""}
    ]


async def test_courses_list_published_only_unless_staff(
    client: httpx.AsyncClient, loaded: Path, author: Account, learner: Account
) -> None:
    published = ["course:paid-course", "course:rest-basics"]
    assert ids(await client.get("/api/v1/courses")) == published
    assert ids(await client.get("/api/v1/courses", headers=learner.headers)) == published
    staff = ids(await client.get("/api/v1/courses", headers=author.headers))
    assert staff == ["course:draft-course", *published]
    card = (await client.get("/api/v1/courses")).json()["items"][0]
    assert datetime.fromisoformat(card.pop("updated_at")).tzinfo is not None
    assert card == {
        "id": "course:paid-course",
        "slug": "paid-course",
        "title": "Course paid-course",
        "description": "Designing HTTP APIs with pagination and caching",
        "level": "Beginner",
        "category": "programming",
        "track": "backend",
        "status": "published",
        "price_cents": 1900,
        "is_free": False,
        "highlight": None,
        "currency": "USD",
        "language": "en",
        "exam_type": None,
        "subject": None,
        "grade": None,
        "lesson_count": 2,
        "duration_minutes": 14,
        "version": 1,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "programming"}, ["course:paid-course", "course:rest-basics"]),
        ({"category": "cooking"}, []),
        ({"track": "backend", "level": "Beginner"}, ["course:paid-course", "course:rest-basics"]),
        ({"level": "Expert"}, []),
        ({"q": "design"}, ["course:paid-course", "course:rest-basics"]),  # stems "designing"
        ({"q": "caching -pagination"}, []),
        ({"q": "kubernetes"}, []),
        ({"q": "   "}, ["course:paid-course", "course:rest-basics"]),
    ],
)
async def test_course_filters_and_search(
    client: httpx.AsyncClient, loaded: Path, params: dict[str, str], expected: list[str]
) -> None:
    assert ids(await client.get("/api/v1/courses", params=params)) == expected


async def test_search_understands_russian_and_english_in_the_seed(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert (await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)).ok
    # "логарифмов" is not in the text; "логарифмы" is: Russian stemming matches them.
    assert ids(await client.get("/api/v1/courses", params={"q": "логарифмов"})) == [
        "course:ege-math-profile"
    ]
    assert ids(await client.get("/api/v1/courses", params={"q": "windows functions"})) == [
        "course:sql-for-analysts"
    ]


@pytest.mark.parametrize("query", [None, "design"])
async def test_courses_are_paged_with_a_cursor_and_link_header(
    client: httpx.AsyncClient, loaded: Path, author: Account, query: str | None
) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 1}
    if query:
        params["q"] = query
    for _ in range(5):
        response = await client.get("/api/v1/courses", params=params, headers=author.headers)
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        link = response.headers["link"]
        assert link.startswith(f"<{PUBLIC_BASE_URL}/api/v1/courses?")
        assert f"cursor={cursor}" in link
        assert link.endswith('>; rel="next"')
        params["cursor"] = cursor
    assert sorted(seen) == ["course:draft-course", "course:paid-course", "course:rest-basics"]
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"level": "Wizard"}, "level"),
        ({"category": "Not A Slug"}, "category"),
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"q": "x" * 201}, "q"),
    ],
)
async def test_course_list_rejects_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/api/v1/courses", params=params)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_course_by_id_or_slug(
    client: httpx.AsyncClient, loaded: Path, author: Account
) -> None:
    by_slug = await client.get("/api/v1/courses/rest-basics")
    by_id = await client.get("/api/v1/courses/course:rest-basics")
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json()
    assert (await client.get("/api/v1/courses/draft-course")).status_code == 404
    assert (
        await client.get("/api/v1/courses/draft-course", headers=author.headers)
    ).status_code == 200
    assert (await client.get("/api/v1/courses/no-such-course")).status_code == 404
    malformed = await client.get("/api/v1/courses/Not_A_Slug")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "course_ref"


async def test_outline_lists_modules_and_items_with_an_etag(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    response = await client.get("/api/v1/courses/rest-basics/outline")
    assert response.status_code == 200
    outline = response.json()
    assert [module["id"] for module in outline["modules"]] == [
        "module:rest-basics-one",
        "module:rest-basics-two",
    ]
    assert outline["modules"][0]["items"][0] == {
        "id": "lesson:rest-basics-intro",
        "type": "lesson",
        "title": "Introduction",
        "duration_minutes": 7,
        "points": 10,
        "required": True,
        "preview": True,
        "status": "not_started",
        "bookmarked": False,
        "position": None,
    }
    assert outline["progress"] is None  # not enrolled
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert len(etag) == 66
    again = await client.get("/api/v1/courses/rest-basics/outline", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get(
        "/api/v1/courses/rest-basics/outline", headers={"If-None-Match": '"stale"'}
    )
    assert other.status_code == 200
    assert (await client.get("/api/v1/courses/draft-course/outline")).status_code == 404


async def test_lessons_of_free_courses_are_open(client: httpx.AsyncClient, loaded: Path) -> None:
    response = await client.get("/api/v1/lessons/lesson:rest-basics-more")
    assert response.status_code == 200
    lesson = response.json()
    assert lesson["title"] == "Going further"
    assert [block["kind"] for block in lesson["blocks"]] == [
        "heading",
        "paragraph",
        "component",
        "code",
    ]
    assert lesson["blocks"][0]["id"] == "going-further"
    assert lesson["source"].startswith("\n# Going further")
    etag = response.headers["etag"]
    cached = await client.get(
        "/api/v1/lessons/lesson:rest-basics-more", headers={"If-None-Match": f"W/{etag}"}
    )
    assert cached.status_code == 304


async def test_paid_lessons_need_an_entitlement_unless_preview(
    client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Path,
    learner: Account,
    author: Account,
) -> None:
    paid = "/api/v1/lessons/lesson:paid-course-more"
    assert (await client.get(paid)).status_code == 401
    refused = await client.get(paid, headers=learner.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this lesson is part of a paid course: buy it first"
    assert (await client.get(paid, headers=author.headers)).status_code == 200
    assert (await client.get("/api/v1/lessons/lesson:paid-course-intro")).status_code == 200
    await enroll(session, learner, "course:paid-course")
    assert (await client.get(paid, headers=learner.headers)).status_code == 200


async def test_lessons_of_drafts_are_hidden_and_bad_ids_are_refused(
    client: httpx.AsyncClient, loaded: Path, author: Account
) -> None:
    draft = "/api/v1/lessons/lesson:draft-course-intro"
    assert (await client.get(draft)).status_code == 404
    assert (await client.get(draft, headers=author.headers)).status_code == 200
    assert (await client.get("/api/v1/lessons/lesson:nothing-here")).status_code == 404
    for bad in ("quiz:rest-basics-check", "lesson:Bad", "lesson"):
        response = await client.get(f"/api/v1/lessons/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "lesson_id"


async def test_quiz_for_learners_has_questions_but_no_answers(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    response = await client.get("/api/v1/quizzes/quiz:rest-basics-check")
    assert response.status_code == 200
    quiz = response.json()
    assert [question["id"] for question in quiz["questions"]] == [
        "question:bank-safe-method",
        "question:legacy-1",
        "question:rest-basics-nouns",
    ]
    assert quiz["max_score"] == 3
    assert quiz["questions"][0]["options"] == [
        {"id": "a", "text": "POST"},
        {"id": "b", "text": "GET"},
    ]
    assert not walk_keys(quiz) & ANSWER_FIELDS
    assert (
        await client.get(
            "/api/v1/quizzes/quiz:rest-basics-check",
            headers={"If-None-Match": response.headers["etag"]},
        )
    ).status_code == 304


async def test_paid_quizzes_need_an_entitlement(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    assert (await client.get("/api/v1/quizzes/quiz:paid-course-check")).status_code == 401
    forbidden = await client.get("/api/v1/quizzes/quiz:paid-course-check", headers=learner.headers)
    assert forbidden.status_code == 403
    assert (await client.get("/api/v1/quizzes/quiz:nothing")).status_code == 404
    assert (await client.get("/api/v1/quizzes/lesson:x")).status_code == 422


async def test_no_learner_response_carries_an_answer_key(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    author: Account,
) -> None:
    """Walk every course, outline, lesson and quiz of the seed as staff (who can open
    everything) and look for answer-key fields anywhere in the JSON."""
    assert (await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)).ok
    headers = author.headers
    responses = [await client.get("/api/v1/courses", params={"limit": 100}, headers=headers)]
    for course in responses[0].json()["items"]:
        outline = await client.get(f"/api/v1/courses/{course['id']}/outline", headers=headers)
        responses.append(outline)
        for module in outline.json()["modules"]:
            for item in module["items"]:
                path = {"lesson": "lessons", "quiz": "quizzes"}.get(item["type"])
                if path:
                    responses.append(
                        await client.get(f"/api/v1/{path}/{item['id']}", headers=headers)
                    )
    quizzes = [r for r in responses if r.request.url.path.startswith("/api/v1/quizzes/")]
    assert len(quizzes) == 6
    for quiz in quizzes:
        assert "order" not in walk_keys(quiz.json()), quiz.request.url
    for response in responses:
        assert response.status_code == 200, response.request.url
        assert not walk_keys(response.json()) & ANSWER_FIELDS, response.request.url


async def test_the_learner_schemas_cannot_hold_an_answer_key(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in (
        "QuizPublic",
        "QuestionPublic",
        "OptionPublic",
        "OutlineWithProgress",
        "ItemProgress",
        "LessonWithProgress",
    ):
        assert not set(schemas[name]["properties"]) & ANSWER_FIELDS, name
        assert schemas[name].get("additionalProperties") is False, name
