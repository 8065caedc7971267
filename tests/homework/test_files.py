"""[6/8] Homework files in GridFS never outlive their rows: an upload whose transaction
fails is deleted again, a failure part-way through an upload deletes what it stored,
``purge-files`` deletes orphans (and only orphans), and erasure deletes the learner's
files once it commits."""

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from fastapi import UploadFile
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers

from syllabus.config import Settings
from syllabus.db.sql import unit_of_work
from syllabus.homework import files, service
from syllabus.identity.models import User
from tests.homework.conftest import PRACTICE, stored_files, submit
from tests.identity.helpers import Account


def upload_of(content: bytes, name: str = "a.txt") -> UploadFile:
    return UploadFile(
        io.BytesIO(content), filename=name, headers=Headers({"content-type": "text/plain"})
    )


async def count(session: AsyncSession, sql: str, account: Account) -> int:
    found = await session.execute(text(sql), {"u": account.id})
    return int(found.scalar_one())


async def test_an_upload_whose_transaction_fails_leaves_nothing(
    session: AsyncSession,
    mongo: AsyncDatabase[dict[str, Any]],
    settings: Settings,
    student: Account,
) -> None:
    user = await session.get(User, uuid.UUID(student.id))
    assert user is not None
    checked = await files.check([upload_of(b"one"), upload_of(b"two")], settings=settings)

    async def fail_after_the_upload() -> None:
        async with unit_of_work(session):
            practice, course = await service.open_for_submission(
                session=session, user=user, practice_id=PRACTICE
            )
            created = await service.submit(
                session=session,
                database=mongo,
                user=user,
                practice=practice,
                course=course,
                text="",
                links=[],
                checked=checked,
                draft=False,
            )
            assert len(created.files) == 2
            assert await stored_files(mongo, student) == 2  # stored, rows written
            raise RuntimeError("the transaction fails after the upload")

    with pytest.raises(RuntimeError, match="after the upload"):
        await fail_after_the_upload()
    assert await stored_files(mongo, student) == 0
    assert await count(session, "SELECT count(*) FROM submissions WHERE user_id = :u", student) == 0
    assert await count(session, "SELECT count(*) FROM submission_files", student) == 0


async def test_a_failure_part_way_through_an_upload_deletes_what_it_stored(
    mongo: AsyncDatabase[dict[str, Any]], settings: Settings
) -> None:
    checked = await files.check([upload_of(b"kept?"), upload_of(b"broken")], settings=settings)
    await checked[1].upload.close()  # its temporary file is gone: reading it fails
    owner = str(uuid.uuid4())
    with pytest.raises(ValueError, match="closed file"):
        await files.upload(mongo, checked, metadata={"user_id": owner, "practice_id": PRACTICE})
    bucket = mongo[f"{files.BUCKET}.files"]
    assert await bucket.count_documents({"metadata.user_id": owner}) == 0


async def test_purge_deletes_old_orphans_only(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, Any]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    student: Account,
) -> None:
    created = await submit(client, student, files=[("kept.txt", b"kept", "text/plain")])
    assert created.status_code == 201, created.text
    store = files.bucket(mongo)
    orphan = await store.upload_from_stream("lost.txt", b"lost", metadata={"user_id": student.id})
    await service.purge_orphan_files(sessions=catalog_sessions, database=mongo)
    assert await stored_files(mongo, student) == 2  # the orphan is too young to be purged
    later = datetime.now(UTC) + timedelta(hours=2)
    await service.purge_orphan_files(sessions=catalog_sessions, database=mongo, now=later)
    left = [d async for d in mongo[f"{files.BUCKET}.files"].find({"metadata.user_id": student.id})]
    assert [d["filename"] for d in left] == ["kept.txt"]
    assert ObjectId(orphan) not in [d["_id"] for d in left]
    mine = await client.get(
        f"/api/v1/submissions/{created.json()['id']}/files/{created.json()['files'][0]['id']}",
        headers=student.headers,
    )
    assert mine.content == b"kept"


async def test_erasure_deletes_the_learners_files_and_words(
    client: httpx.AsyncClient,
    session: AsyncSession,
    mongo: AsyncDatabase[dict[str, Any]],
    student: Account,
) -> None:
    created = await submit(
        client, student, text="my words", files=[("mine.txt", b"my file", "text/plain")]
    )
    assert created.status_code == 201, created.text
    export = await client.get("/api/v1/users/me/export", headers=student.headers)
    assert [s["id"] for s in export.json()["submissions"]] == [created.json()["id"]]
    assert [f["filename"] for f in export.json()["submission_files"]] == ["mine.txt"]
    erased = await client.delete("/api/v1/users/me", headers=student.headers)
    assert erased.status_code == 204, erased.text
    assert await stored_files(mongo, student) == 0
    words = await session.execute(
        text("SELECT text, links::text, status FROM submissions WHERE user_id = :u"),
        {"u": student.id},
    )
    assert words.all() == [("", "[]", "submitted")]  # pseudonymous facts stay
    assert await count(session, "SELECT count(*) FROM submission_files", student) == 0


async def test_two_submissions_at_once_leave_one_and_its_files_only(
    live_client: httpx.AsyncClient,
    live_learner: Account,
    mongo: AsyncDatabase[dict[str, Any]],
) -> None:
    """Really concurrent (committed) requests: whichever loses, by the open-submission
    check or by the unique index at insert, leaves no file behind."""
    answers = await asyncio.gather(
        *(
            submit(
                live_client, live_learner, files=[(f"{n}.txt", f"try {n}".encode(), "text/plain")]
            )
            for n in range(3)
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 409, 409], [a.text for a in answers]
    [won] = [a.json() for a in answers if a.status_code == 201]
    left = [
        d["filename"]
        async for d in mongo[f"{files.BUCKET}.files"].find({"metadata.user_id": live_learner.id})
    ]
    assert left == [won["files"][0]["filename"]]
