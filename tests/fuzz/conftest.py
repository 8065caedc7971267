"""A service of its own for the fuzzer: a scratch PostgreSQL database (migrated), a
Mongo database of its own with the test content loaded, and one admin account.

The fuzzer commits whatever it likes, so it never shares the session's stores. Its app
is started by schemathesis itself, on schemathesis' own event loop.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.config import Settings
from syllabus.content.documents import DOCUMENT_MODELS
from syllabus.content.loader.run import load_folder
from syllabus.db.mongo import create_client, init_documents
from syllabus.db.sql import create_engine, create_sessionmaker, session_scope
from syllabus.identity import service as identity
from syllabus.identity.schemas import UserRegister
from tests.ai.model_server import ModelServer, ThreadedModelServer
from tests.conftest import MANY_ACCOUNTS, drop_database, migrated_database
from tests.content.folder import make_folder
from tests.identity.helpers import PASSWORD
from tests.stores import ServerUrls


@dataclass(frozen=True)
class FuzzTarget:
    settings: Settings
    admin_id: uuid.UUID
    real_ids: dict[str, list[str]]
    """Loaded content ids by the parameter and body field names that take them."""


@pytest.fixture(scope="session")
def fuzz_model_server() -> Iterator[ModelServer]:
    """An OpenAI-compatible model server for the fuzzed app: the tutor's routes are fuzzed
    with a model configured (its stream, its stores), in a thread of its own because
    schemathesis drives the app on its own loop."""
    with ThreadedModelServer() as model:
        yield model


@pytest.fixture(scope="session")
async def fuzz_target(
    servers: ServerUrls,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    fuzz_model_server: ModelServer,
) -> AsyncIterator[FuzzTarget]:
    name = f"syllabus_fuzz_{uuid.uuid4().hex[:8]}"
    fuzzed = await migrated_database(servers, name)
    fuzz_settings = settings.model_copy(
        update={
            "postgres_url": fuzzed.app,
            "postgres_owner_url": fuzzed.owner,
            "mongo_db": f"syllabus_fuzz_{uuid.uuid4().hex[:8]}",
            # The fuzzer signs up thousands of accounts from one address into a database
            # that is never rolled back: the sign-up throttle must not end the run early.
            **MANY_ACCOUNTS,
            "ai_base_url": fuzz_model_server.url,
            "ai_max_retries": 0,
        }
    )
    engine = create_engine(fuzz_settings.sqlalchemy_url, pool_size=2)
    mongo = create_client(servers.mongo)
    try:
        sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        database = mongo[fuzz_settings.mongo_db]
        await init_documents(database, DOCUMENT_MODELS)
        folder = make_folder(Path(tmp_path_factory.mktemp("fuzz")) / "content")
        await load_folder(folder, database=database, sessionmaker=sessionmaker)
        async with session_scope(sessionmaker) as session:
            admin, _ = await identity.ensure_admin(
                session=session,
                data=UserRegister(email="fuzz-admin@example.org", password=PASSWORD, name="Admin"),
            )
            ids = (
                await session.execute(
                    text(
                        "SELECT content_id FROM content_index UNION SELECT content_id FROM courses"
                    )
                )
            ).scalars()
            content_ids = sorted(ids)
    finally:
        await engine.dispose()
        await mongo.close()
    by_kind = {
        kind: [id_ for id_ in content_ids if id_.startswith(f"{kind}:")]
        for kind in ("course", "lesson", "quiz")
    }
    real_ids = {
        "course_ref": by_kind["course"],
        "course_id": by_kind["course"],
        "lesson_id": by_kind["lesson"],
        "quiz_id": by_kind["quiz"],
    }
    assert all(real_ids.values()), real_ids
    yield FuzzTarget(settings=fuzz_settings, admin_id=admin.id, real_ids=real_ids)
    # A client of this loop's own: the fuzzed app's lifespan runs on schemathesis' loop.
    mongo = create_client(servers.mongo)
    try:
        await mongo.drop_database(fuzz_settings.mongo_db)
    finally:
        await mongo.close()
    await drop_database(servers.postgres, name)
