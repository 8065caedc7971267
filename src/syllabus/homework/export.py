"""A learner's submissions in ``GET /users/me/export`` (every version, with its files
and review), and erasure: what they wrote is blanked, their files' rows are deleted in
the erasure's transaction and the files leave GridFS once it commits."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.content import service as content
from syllabus.db.sql import after_commit
from syllabus.homework import files, repository, service
from syllabus.homework.models import Submission, SubmissionFile
from syllabus.identity.export import export_section, table_of


@export_section("submissions", tables=[table_of(Submission).name, table_of(SubmissionFile).name])
async def _submissions(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await repository.my_page(
        session, user_id=user_id, practice_id=None, status=None, after=None, limit=None
    )
    public = await service.public(session, rows)
    return [submission.model_dump(mode="json") for submission in public]


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
