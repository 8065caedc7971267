"""Homework files in MongoDB GridFS (bucket ``submission_files``).

A file is checked completely before anything is stored: its size (counted, never taken
from a header), its SHA-256, its declared media type against the allowed list and its
content against the declaration (text must be UTF-8; any other type must carry its
format's signature, as ``filetype`` reads it). Only then is it uploaded.

GridFS writes cannot join a PostgreSQL transaction (nor a MongoDB one), so the order is:
upload, then write the rows that point at the files; if that unit of work rolls back,
the uploads are deleted again (``db.sql.after_rollback``). A process that dies between
the two leaves an orphan that :func:`purge_orphans` (``syllabus purge-files``) deletes
once it is older than any upload in flight could be.
"""

import codecs
import hashlib
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import UploadFile
from pymongo.asynchronous.database import AsyncDatabase

from syllabus.config import Settings
from syllabus.homework.errors import FileTooLarge, FileTypeRefused

# ``filetype`` and ``gridfs`` are imported where a file is checked or stored, not with this
# module: the API worker imports it for its routes, and most workers never take an upload
# (about 0.8 MiB of the worker's RSS; docs/operations.md, "Memory and garbage collection").
if TYPE_CHECKING:
    from gridfs import AsyncGridFSBucket

BUCKET = "submission_files"
CHUNK_BYTES = 255 * 1024  # GridFS's default chunk size: one read, one chunk
SNIFF_BYTES = 8192  # filetype reads at most this many bytes of a file
TEXT_TYPES = ("text/", "application/json", "application/sql")
MAX_FILENAME = 255
ORPHAN_AGE = timedelta(hours=1)
"""An unreferenced file younger than this may belong to an upload still in flight."""

Database = AsyncDatabase[dict[str, object]]


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check, ready to upload, and what its row records."""

    upload: UploadFile
    filename: str
    media_type: str
    size_bytes: int
    sha256: str

    def fingerprint(self) -> dict[str, Any]:
        """What an Idempotency-Key's request hash covers of this file."""
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


def _file_error(field: str, message: str, kind: str) -> dict[str, str]:
    return {"field": field, "in": "body", "message": message, "type": kind}


def safe_filename(name: str | None) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:MAX_FILENAME] or "file"


def _is_text(media_type: str) -> bool:
    return media_type.startswith(TEXT_TYPES)


async def check(files: Sequence[UploadFile], *, settings: Settings) -> list[CheckedFile]:
    """Every file checked (count, type, size, content), or the first refusal."""
    if len(files) > settings.submission_max_files:
        message = f"at most {settings.submission_max_files} files"
        raise FileTooLarge(
            f"files: {message}, not {len(files)}",
            errors=[_file_error("files", message, "too_many_files")],
            max_files=settings.submission_max_files,
        )
    return [await _check_one(upload, f"files[{i}]", settings) for i, upload in enumerate(files)]


async def _check_one(upload: UploadFile, field: str, settings: Settings) -> CheckedFile:
    media_type = (upload.content_type or "").split(";")[0].strip().lower()
    allowed = settings.submission_media_types
    if media_type not in allowed:
        message = f"{media_type or 'no media type'} is not one of {', '.join(allowed)}"
        raise FileTypeRefused(
            f"{field}: {message}",
            errors=[_file_error(field, message, "media_type")],
            allowed=allowed,
        )
    limit = settings.submission_max_file_bytes
    digest, size, head = hashlib.sha256(), 0, b""
    text = codecs.getincrementaldecoder("utf-8")() if _is_text(media_type) else None
    await upload.seek(0)
    while chunk := await upload.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            message = f"larger than {limit} bytes"
            raise FileTooLarge(
                f"{field}: {message}",
                errors=[_file_error(field, message, "too_large")],
                max_bytes=limit,
            )
        digest.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        if text is not None:
            _decode(text, chunk, field=field, media_type=media_type, final=False)
    if text is not None:
        _decode(text, b"", field=field, media_type=media_type, final=True)
    else:
        import filetype  # at first use (see the imports above)

        found = filetype.guess_mime(head) if head else None
        if found != media_type:
            message = f"the content is {found or 'not recognised'}, not {media_type}"
            raise FileTypeRefused(
                f"{field}: {message}",
                errors=[_file_error(field, message, "content_mismatch")],
                allowed=allowed,
            )
    await upload.seek(0)
    return CheckedFile(
        upload=upload,
        filename=safe_filename(upload.filename),
        media_type=media_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
    )


def _decode(
    decoder: codecs.IncrementalDecoder, chunk: bytes, *, field: str, media_type: str, final: bool
) -> None:
    try:
        decoded = decoder.decode(chunk, final=final)
    except UnicodeDecodeError:
        decoded = "\x00"
    if "\x00" in decoded:
        message = f"a {media_type} file must be UTF-8 text (no NUL characters)"
        raise FileTypeRefused(
            f"{field}: {message}", errors=[_file_error(field, message, "content_mismatch")]
        )


def bucket(database: Database) -> "AsyncGridFSBucket":
    from gridfs import AsyncGridFSBucket  # at first use (see the imports above)

    return AsyncGridFSBucket(database, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)


async def upload(
    database: Database, files: Sequence[CheckedFile], *, metadata: dict[str, str]
) -> list[str]:
    """Store each file; their GridFS ids (as strings), in order. A failure part-way
    deletes the ones stored before it, then raises."""
    store = bucket(database)
    stored: list[str] = []
    try:
        for checked in files:
            grid_in = store.open_upload_stream(
                checked.filename,
                metadata={
                    **metadata,
                    "media_type": checked.media_type,
                    "sha256": checked.sha256,
                },
            )
            await checked.upload.seek(0)
            while chunk := await checked.upload.read(CHUNK_BYTES):
                await grid_in.write(chunk)
            await grid_in.close()
            stored.append(str(grid_in._id))
    except BaseException:
        await delete(database, stored)
        raise
    return stored


async def delete(database: Database, gridfs_ids: Collection[str]) -> None:
    """Delete these files (chunks first, as GridFS does); unknown ids are skipped."""
    from gridfs.errors import NoFile  # at first use (see the imports above)

    store = bucket(database)
    for gridfs_id in gridfs_ids:
        try:
            await store.delete(ObjectId(gridfs_id))
        except (NoFile, InvalidId):
            continue


async def stream(database: Database, gridfs_id: str) -> AsyncIterator[bytes] | None:
    """The file's bytes chunk by chunk, or ``None`` when GridFS has no such file."""
    from gridfs.errors import NoFile  # at first use (see the imports above)

    try:
        grid_out = await bucket(database).open_download_stream(ObjectId(gridfs_id))
    except (NoFile, InvalidId):
        return None

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await grid_out.readchunk():
            yield chunk

    return chunks()


async def purge_orphans(
    database: Database,
    *,
    referenced: Callable[[list[str]], Awaitable[set[str]]],
    now: datetime | None = None,
    older_than: timedelta = ORPHAN_AGE,
) -> int:
    """Delete every file older than ``older_than`` that no row points at: an upload
    whose transaction failed and whose clean-up did not run, an erasure whose clean-up
    failed. ``referenced`` answers which of a batch of ids some row points at. Files are
    read in id order, a batch at a time; the number deleted."""
    cutoff = (now or datetime.now(UTC)) - older_than
    files = database[f"{BUCKET}.files"]
    deleted, after = 0, None
    while True:
        query: dict[str, Any] = {"uploadDate": {"$lt": cutoff}}
        if after is not None:
            query["_id"] = {"$gt": after}
        batch = [d["_id"] async for d in files.find(query, {"_id": 1}).sort("_id", 1).limit(500)]
        if not batch:
            return deleted
        after = batch[-1]
        known = await referenced([str(i) for i in batch])
        orphans = [str(i) for i in batch if str(i) not in known]
        await delete(database, orphans)
        deleted += len(orphans)
