"""[6/8] Homework submissions: text, links and files (GridFS, checked and hashed), my own
only, drafts, versions after a return, and every refusal a problem+json naming its field
with nothing left behind."""

import hashlib
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
from pymongo.asynchronous.database import AsyncDatabase

from tests.competencies.helpers import FREE
from tests.homework.conftest import (
    PAID_PRACTICE,
    PDF,
    PNG,
    PRACTICE,
    field_of,
    stored_files,
    submit,
)
from tests.identity.helpers import Account, sign_up
from tests.openapi import openapi_document


async def test_a_submission_with_text_links_and_files_is_mine_to_read_and_download(
    client: httpx.AsyncClient, mongo: AsyncDatabase[dict[str, Any]], student: Account
) -> None:
    code = b"SELECT * FROM books;\n"
    created = await submit(
        client,
        student,
        text="GET /books -> 200",
        links=["https://example.org/my-api"],
        files=[("query.sql", code, "application/sql"), ("report.pdf", PDF, "application/pdf")],
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "submitted"
    assert body["version"] == 1
    assert body["previous_id"] is None
    assert (body["practice_id"], body["course_id"], body["practice_version"]) == (PRACTICE, FREE, 1)
    assert body["text"] == "GET /books -> 200"
    assert body["links"] == ["https://example.org/my-api"]
    assert body["review"] is None
    assert body["submitted_at"]
    [sql, pdf] = body["files"]
    assert sql["filename"] == "query.sql"
    assert sql["media_type"] == "application/sql"
    assert sql["size_bytes"] == len(code)
    assert sql["sha256"] == hashlib.sha256(code).hexdigest()
    assert pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert await stored_files(mongo, student) == 2

    one = await client.get(f"/api/v1/submissions/{body['id']}", headers=student.headers)
    assert one.status_code == 200
    assert one.json() == body
    listed = await client.get("/api/v1/users/me/submissions", headers=student.headers)
    assert listed.json()["items"] == [body]
    download = await client.get(
        f"/api/v1/submissions/{body['id']}/files/{sql['id']}", headers=student.headers
    )
    assert download.status_code == 200
    assert download.content == code
    assert download.headers["content-type"].startswith("application/sql")
    assert download.headers["etag"] == f'"{sql["sha256"]}"'
    assert "query.sql" in download.headers["content-disposition"]


async def test_someone_elses_submission_is_a_404(
    client: httpx.AsyncClient, student: Account
) -> None:
    created = (await submit(client, student, files=[("a.txt", b"mine", "text/plain")])).json()
    other = await sign_up(client)
    urls = [
        f"/api/v1/submissions/{created['id']}",
        f"/api/v1/submissions/{created['id']}/files/{created['files'][0]['id']}",
    ]
    for url in urls:
        refused = await client.get(url, headers=other.headers)
        assert refused.status_code == 404, url
        assert field_of(refused) in (["submission_id"], ["file_id"])
    submitted = await client.post(
        f"/api/v1/submissions/{created['id']}/submit", headers=other.headers
    )
    assert submitted.status_code == 404
    assert field_of(submitted) == ["submission_id"]
    assert (await client.get("/api/v1/users/me/submissions", headers=other.headers)).json()[
        "items"
    ] == []


async def test_refusals_name_the_field_and_store_nothing(
    client: httpx.AsyncClient, mongo: AsyncDatabase[dict[str, Any]], student: Account
) -> None:
    ok = ("ok.txt", b"fine", "text/plain")
    cases: list[tuple[dict[str, Any], int, str, list[str]]] = [
        (
            {"files": [ok, ("x.exe", b"MZ\x90\x00", "application/x-msdownload")]},
            415,
            "submission-file-type",
            ["files[1]"],
        ),
        (
            {"files": [("fake.png", b"not an image", "image/png")]},
            415,
            "submission-file-type",
            ["files[0]"],
        ),
        (
            {"files": [("pic.pdf", PNG, "application/pdf")]},
            415,
            "submission-file-type",
            ["files[0]"],
        ),
        (
            {"files": [("bad.txt", b"\xff\xfe\x00broken", "text/plain")]},
            415,
            "submission-file-type",
            ["files[0]"],
        ),
        ({"files": [ok] * 6}, 413, "submission-too-large", ["files"]),
        ({"text": "   "}, 422, "validation-failed", ["text"]),
        ({"links": ["javascript:alert(1)"]}, 422, "validation-failed", ["links[0]"]),
    ]
    for kwargs, status, code, fields in cases:
        refused = await submit(client, student, **kwargs)
        assert refused.status_code == status, (kwargs, refused.text)
        assert refused.json()["code"] == code, refused.text
        assert field_of(refused) == fields, refused.text
    assert await stored_files(mongo, student) == 0
    mine = await client.get("/api/v1/users/me/submissions", headers=student.headers)
    assert mine.json()["items"] == []


async def test_a_file_above_the_limit_is_413_naming_it(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, Any]],
    student: Account,
    small_limits: httpx.AsyncClient,
) -> None:
    refused = await submit(
        small_limits,
        student,
        files=[("a.txt", b"a", "text/plain"), ("b.txt", b"b" * 2048, "text/plain")],
    )
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "submission-too-large"
    assert field_of(refused) == ["files[1]"]
    assert refused.json()["max_bytes"] == 1024
    too_many = await submit(small_limits, student, files=[("a.txt", b"a", "text/plain")] * 3)
    assert too_many.status_code == 413
    assert field_of(too_many) == ["files"]
    body_limit = await submit(small_limits, student, files=[("a.txt", b"a" * 20_000, "text/plain")])
    assert body_limit.status_code == 413
    assert body_limit.json()["code"] == "body-too-large"
    assert await stored_files(mongo, student) == 0


async def test_a_file_larger_than_the_json_body_limit_is_accepted(
    client: httpx.AsyncClient, student: Account
) -> None:
    big = b"x" * (2 * 1024 * 1024)  # twice SYLLABUS_MAX_BODY_BYTES; the file limit is 10 MiB
    created = await submit(client, student, files=[("big.txt", big, "text/plain")])
    assert created.status_code == 201, created.text
    assert created.json()["files"][0]["size_bytes"] == len(big)


async def test_one_open_submission_per_practice_and_drafts(
    client: httpx.AsyncClient, student: Account
) -> None:
    draft = await submit(client, student, text="half done", draft=True)
    assert draft.status_code == 201
    assert draft.json()["status"] == "draft"
    assert draft.json()["submitted_at"] is None
    again = await submit(client, student, text="another")
    assert again.status_code == 409
    assert again.json()["code"] == "submission-open"
    assert field_of(again) == ["practice_id"]
    url = f"/api/v1/submissions/{draft.json()['id']}/submit"
    done = await client.post(url, headers=student.headers)
    assert done.status_code == 200
    assert done.json()["status"] == "submitted"
    twice = await client.post(url, headers=student.headers)
    assert twice.status_code == 409
    assert twice.json()["code"] == "submission-status"
    assert field_of(twice) == ["status"]
    assert twice.json()["allowed"] == ["draft"]


async def test_paid_practice_needs_entitlement_and_enrollment(
    client: httpx.AsyncClient, student: Account, practiced: Path
) -> None:
    refused = await submit(client, student, practice=PAID_PRACTICE, text="x")
    assert refused.status_code == 403, refused.text
    stranger = await sign_up(client)
    bad_file = [("x.exe", b"MZ\x90\x00", "application/x-msdownload")]
    not_enrolled = await submit(client, stranger, files=bad_file)  # access before files
    assert not_enrolled.status_code == 403
    assert not_enrolled.json()["code"] == "enrollment-required"
    anonymous = await client.post(f"/api/v1/practices/{PRACTICE}/submissions", data={"text": "x"})
    assert anonymous.status_code == 401
    missing = await submit(client, student, practice="practice:nothing", files=bad_file)
    assert missing.status_code == 404


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, mongo: AsyncDatabase[dict[str, Any]], student: Account
) -> None:
    key = {"Idempotency-Key": "homework-key-0001"}
    file = [("a.txt", b"same", "text/plain")]
    first = await submit(client, student, text="t", files=file, headers=key)
    second = await submit(client, student, text="t", files=file, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert await stored_files(mongo, student) == 1
    other = await submit(
        client, student, text="t", files=[("a.txt", b"else", "text/plain")], headers=key
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"


# Characters that white-space classes disagree on: ECMA-262 (the OpenAPI's dialect),
# Python and the server's Rust regex each read ``\s`` as another set.
DISPUTED = ["\x85", "\x1c", "\ufeff", "\xa0", "\u2028", "\u3000", "\x7f", "\x9b", "é"]


async def test_a_link_is_refused_exactly_when_the_openapi_says(
    client: httpx.AsyncClient, student: Account
) -> None:
    """The fuzzer sent ``http://\x85...`` (valid by the OpenAPI's ``[^\\s\\x00]`` read as
    ECMA-262) and the server refused it: the pattern now spells its class out."""
    schema = openapi_document()["components"]["schemas"]["SubmissionForm"]
    promised = jsonschema_rs.validator_for(schema["properties"]["links"]["items"])
    for char in DISPUTED:
        link = f"https://example.org/a{char}b"
        response = await submit(client, student, links=[link])
        if promised.is_valid(link):
            assert response.status_code == 201, (char, response.text)
        else:
            assert response.status_code == 422, (char, response.text)
            assert field_of(response) == ["links[0]"], response.text
