"""MongoDB: one ``AsyncMongoClient`` per process and Beanie over it.

Only the URL says which server this is; nothing here depends on the engine behind it,
nor on which documents exist: the caller names them (``content.documents.DOCUMENT_MODELS``).
"""

from collections.abc import Sequence

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

MongoClient = AsyncMongoClient[dict[str, object]]


def create_client(url: str, *, timeout_ms: int = 5000) -> MongoClient:
    return AsyncMongoClient(
        url,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        appname="syllabus",
    )


async def init_documents(
    database: AsyncDatabase[dict[str, object]], models: Sequence[type[Document]]
) -> None:
    """Register the Beanie documents and create their declared indexes (idempotent)."""
    await init_beanie(database=database, document_models=list(models))
