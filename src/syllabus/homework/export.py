"""A learner's submissions in ``GET /users/me/export`` (every version, with its review)
and their files (name, type, size, SHA-256); and erasure: what they wrote is blanked,
their files' rows are deleted in the erasure's transaction and the files leave GridFS
once it commits."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.catalog.repository import course_content_id
from syllabus.content import service as content
from syllabus.db.sql import after_commit
from syllabus.homework import files, repository
from syllabus.homework.models import Submission, SubmissionFile
from syllabus.identity.export import (
    RowShape,
    export_section,
    export_table,
    rows_of_user,
    table_of,
)

export_table(
    "submissions",
    Submission,
    ids={"course_id": course_content_id},
    leave_out=("review_id", "reviewer_id"),  # the teachers' handle, and who the teacher was
)


@export_section(
    "submission_files", tables=[table_of(SubmissionFile).name], shape=RowShape(SubmissionFile)
)
async def _files(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows_of_user(
        session, SubmissionFile, user_id, through=("submission_id", Submission)
    )


async def erase(session: AsyncSession, user_id: uuid.UUID) -> None:
    """``identity.hooks.account_erased``: the rows now; the files once the erasure has
    committed (a failure there leaves orphans for ``syllabus purge-files``)."""
    gridfs_ids = await repository.erase_user(session, user_id=user_id)
    if not gridfs_ids:
        return
    database = content.bound_database()

    async def delete_files() -> None:
        await files.delete(database, gridfs_ids)

    after_commit(session, delete_files)
