"""``GET /lessons/{id}`` as a lesson page needs it: the module, the items on either side
and my own record of the lesson, with an ETag that changes when any of it does."""

from pathlib import Path
from typing import Any

import httpx

from tests.identity.helpers import Account
from tests.learning.helpers import enroll, progress

FREE = "course:rest-basics"
INTRO = "lesson:rest-basics-intro"
MORE = "lesson:rest-basics-more"


async def lesson(
    client: httpx.AsyncClient, lesson_id: str, account: Account | None = None, **headers: str
) -> httpx.Response:
    all_headers = {**(account.headers if account else {}), **headers}
    return await client.get(f"/api/v1/lessons/{lesson_id}", headers=all_headers)


def body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_a_lesson_names_its_module_and_neighbours(
    client: httpx.AsyncClient, loaded: Path
) -> None:
    intro, more = body(await lesson(client, INTRO)), body(await lesson(client, MORE))
    assert intro["module"] == {"id": "module:rest-basics-one", "title": "One", "order": 1}
    assert intro["previous"] is None  # the first item of the course
    assert intro["next"] == {"id": MORE, "type": "lesson", "title": "Going further"}
    assert more["previous"] == {"id": INTRO, "type": "lesson", "title": "Introduction"}
    assert more["next"] == {"id": "quiz:rest-basics-check", "type": "quiz", "title": "Check"}
    assert intro["progress"] is None  # nobody signed in
    assert intro["blocks"]  # still the whole lesson
    assert intro["source"]


async def test_my_progress_is_in_the_lesson_and_in_its_etag(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    await enroll(client, learner, FREE)
    fresh = await lesson(client, INTRO, learner)
    assert body(fresh)["progress"] == {
        "status": "not_started",
        "bookmarked": False,
        "note": None,
        "position": None,
        "updated_at": None,
    }
    etag = fresh.headers["etag"]
    assert (await lesson(client, INTRO, learner, **{"if-none-match": etag})).status_code == 304
    saved = await progress(
        client, learner, INTRO, status="started", note="nouns!", position={"block": "b3"}
    )
    assert saved.status_code == 200, saved.text
    after = await lesson(client, INTRO, learner, **{"if-none-match": etag})
    mine = body(after)["progress"]  # 200, not 304: my record changed
    assert (mine["status"], mine["note"], mine["position"]) == (
        "started",
        "nouns!",
        {"block": "b3"},
    )
    assert mine["updated_at"] is not None
    assert after.headers["etag"] != etag
    # Moving the resume position alone is a change too.
    await progress(client, learner, INTRO, status="started", position={"block": "b4"})
    moved = await lesson(client, INTRO, learner, **{"if-none-match": after.headers["etag"]})
    assert body(moved)["progress"]["position"] == {"block": "b4"}
    # Someone else's progress is not mine, and anonymous readers share one ETag.
    assert (await lesson(client, INTRO)).headers["etag"] not in (etag, after.headers["etag"])


async def test_bad_and_hidden_lessons(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    malformed = await lesson(client, "lesson:Not_A_Slug")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "lesson_id"
    assert (await lesson(client, "lesson:nowhere")).status_code == 404
    assert (await lesson(client, "lesson:draft-course-intro", learner)).status_code == 404
    paid = await lesson(client, "lesson:paid-course-more", learner)
    assert paid.status_code == 403, paid.text
