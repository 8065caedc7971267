"""The service as a real process on its own PostgreSQL, and learners that stream keyed
writes at it, remember every request they issued, and retry them all afterwards.

Everything waits with a deadline: a hung server fails the test instead of hanging it.
"""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from syllabus.config import to_libpq_url
from syllabus.db import migrate
from syllabus.embedded import APP_ROLE, EmbeddedPostgres, free_port
from tests.conftest import TEST_JWT_SECRET
from tests.content.folder import make_folder, write_course
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

COURSE = "course:crash"
QUIZ = "quiz:crash-check"
LESSONS = ["lesson:crash-intro", "lesson:crash-more"] + [
    f"lesson:crash-extra-{n}" for n in range(8)
]
QUIZ_AFTER = {3, 7}
"""A quiz attempt (start, then submit) follows these lessons: two of the quiz's three."""
ANSWERS = {"answers": [{"question_id": "question:crash-nouns", "answer": True}]}
REQUEST_TIMEOUT = httpx.Timeout(20.0)
READY_TIMEOUT_SECONDS = 45.0


def _child_env(**settings: str) -> dict[str, str]:
    """The test's own import path (the worktree or the installed package), and only the
    settings given: never a developer's ``.env`` (the child runs in a scratch folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    env.update({f"SYLLABUS_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class Stores:
    """The service's settings: its own PostgreSQL (which a test may stop; the service
    signs in as the app role), the session's Mongo server with a database of its own."""

    postgres: EmbeddedPostgres
    postgres_url: str
    mongo_url: str
    mongo_db: str
    scratch: Path

    def env(self) -> dict[str, str]:
        return _child_env(
            env="test",
            postgres_url=self.postgres_url,
            mongo_url=self.mongo_url,
            mongo_db=self.mongo_db,
            jwt_secret=TEST_JWT_SECRET,
            health_timeout_seconds="1",
            log_level="warning",
        )


@contextlib.contextmanager
def own_stores(mongo_url: str) -> Iterator[Stores]:
    """A throwaway PostgreSQL (short folder: unix socket paths are limited to ~107 bytes),
    migrated, and the content loaded with the real CLI."""
    pytest.importorskip("pgserver")
    scratch = Path(tempfile.mkdtemp(prefix="syl-"))
    postgres = EmbeddedPostgres(scratch / "pg", after_use="stop")
    mongo_db = f"syllabus_crash_{uuid.uuid4().hex[:10]}"
    try:
        urls = postgres.start()
        migrate.upgrade(url=urls.owner, app_role=APP_ROLE)
        stores = Stores(postgres, urls.app, mongo_url, mongo_db, scratch)
        folder = make_folder(scratch / "content")
        write_course(folder, "crash", lessons=len(LESSONS))
        load = ["content", "load", str(folder)]
        subprocess.run(
            [sys.executable, "-c", "from syllabus.cli import app; app()", *load],
            env=stores.env(),
            cwd=scratch,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield stores
    finally:
        postgres.stop()
        _drop_mongo_database(mongo_url, mongo_db)
        shutil.rmtree(scratch, ignore_errors=True)


def _drop_mongo_database(url: str, name: str) -> None:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    with contextlib.closing(client):
        client.drop_database(name)


@dataclass
class Service:
    """``uvicorn syllabus.main:create_app`` in a process of its own, on a fixed port."""

    stores: Stores
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.stores.scratch / "service.log"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def launch(self) -> None:
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "syllabus.main:create_app",
                    "--factory",
                    *address,
                ],
                env=self.stores.env(),
                cwd=self.stores.scratch,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self.launch()
        await self.wait_ready()

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0) as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                assert self.process.poll() is None, self.log_tail()
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"not ready in {READY_TIMEOUT_SECONDS} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback but PostgreSQL's own."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def running(stores: Stores) -> AsyncIterator[Service]:
    service = Service(stores)
    await service.start()
    try:
        yield service
    finally:
        service.stop()


@dataclass
class Sent:
    """One request a learner issued, and what came back the first time (if anything)."""

    kind: str  # progress, start or submit
    method: str
    path: str
    body: Any
    key: str = field(default_factory=lambda: f"crash-{uuid.uuid4().hex}")
    status: int | None = None
    content: bytes | None = None
    content_type: str | None = None
    retry_after: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Tally:
    """Answers so far across learners; fires once ``threshold`` arrived."""

    def __init__(self, threshold: int) -> None:
        self.answered = 0
        self.threshold = threshold
        self.reached = asyncio.Event()

    def add(self) -> None:
        self.answered += 1
        if self.answered >= self.threshold:
            self.reached.set()


@dataclass
class Learner:
    account: Account
    sent: list[Sent] = field(default_factory=list)

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {**self.account.headers, **({"Idempotency-Key": key} if key else {})}

    async def _send(self, http: httpx.AsyncClient, request: Sent, tally: Tally) -> Sent | None:
        """Issue ``request``; None when it was not answered with success (the stream
        then stops: a client does not go on after a failure it has to retry)."""
        self.sent.append(request)
        try:
            response = await http.request(
                request.method, request.path, json=request.body, headers=self.headers(request.key)
            )
        except httpx.TransportError:
            return None
        request.status = response.status_code
        request.content = response.content
        request.content_type = response.headers.get("content-type")
        request.retry_after = response.headers.get("retry-after")
        if not request.answered:
            return None
        tally.add()
        return request

    async def stream(self, http: httpx.AsyncClient, tally: Tally) -> None:
        """Progress on every lesson (started, then completed, with a note), a quiz
        attempt after some of them; until the first request that fails."""
        for index, lesson in enumerate(LESSONS):
            for status in ("started", "completed"):
                body = {"status": status, "note": f"{status} {lesson}"}
                put = Sent("progress", "PUT", f"/api/v1/progress/lessons/{lesson}", body)
                if await self._send(http, put, tally) is None:
                    return
            if index in QUIZ_AFTER:
                start = Sent("start", "POST", f"/api/v1/quizzes/{QUIZ}/attempts", None)
                if await self._send(http, start, tally) is None:
                    return
                attempt = json.loads(start.content or b"{}")["id"]
                submit = Sent("submit", "POST", f"/api/v1/quiz-attempts/{attempt}/submit", ANSWERS)
                if await self._send(http, submit, tally) is None:
                    return

    async def retry_all(self, http: httpx.AsyncClient) -> list[str]:
        """Every request again, same key and body, in order; what went wrong, if anything."""
        problems = []
        for request in self.sent:
            response = await http.request(
                request.method, request.path, json=request.body, headers=self.headers(request.key)
            )
            where = f"{request.method} {request.path} (first answer {request.status})"
            if not 200 <= response.status_code < 300:
                problems.append(f"{where}: retry got {response.status_code} {response.text}")
            elif request.answered and response.content != request.content:
                problems.append(
                    f"{where}: replay differs: {request.content!r} then {response.content!r}"
                )
        return problems


async def learners(service: Service, count: int) -> list[Learner]:
    async with httpx.AsyncClient(base_url=service.url, timeout=REQUEST_TIMEOUT) as http:
        accounts = [await sign_up(http) for _ in range(count)]
        for account in accounts:
            await enroll(http, account, COURSE)
    return [Learner(account) for account in accounts]


@dataclass(frozen=True)
class Run:
    sent: int
    answered: int
    unanswered: int
    refused: dict[int, int]
    samples: list[str]
    """The first few refusals that were not 503, as sent."""

    def __str__(self) -> str:
        return (
            f"{self.sent} requests sent, {self.answered} answered with success, "
            f"{self.unanswered} not, refusals by status {self.refused} {self.samples}"
        )


async def stream_until(
    service: Service, crowd: list[Learner], *, threshold: int, interrupt: Any
) -> Run:
    """Every learner streams concurrently; once ``threshold`` answers arrived,
    ``interrupt()`` runs (kill the server, stop PostgreSQL) while requests are in flight;
    then the streams are awaited (they stop at their first failure)."""
    tally = Tally(threshold)
    async with httpx.AsyncClient(base_url=service.url, timeout=REQUEST_TIMEOUT) as http:
        streams = [asyncio.create_task(learner.stream(http, tally)) for learner in crowd]
        await asyncio.wait_for(tally.reached.wait(), timeout=60)
        await interrupt()
        await asyncio.wait_for(asyncio.gather(*streams), timeout=60)
    sent = [request for learner in crowd for request in learner.sent]
    refused: dict[int, int] = {}
    for request in sent:
        if request.status is not None and not request.answered:
            refused[request.status] = refused.get(request.status, 0) + 1
    answered = sum(request.answered for request in sent)
    samples = [
        f"{r.status} {r.method} {r.path}: {r.content!r}"
        for r in sent
        if r.status not in (None, 503) and not r.answered
    ]
    return Run(len(sent), answered, len(sent) - answered, refused, samples[:3])


async def retry_everything(service: Service, crowd: list[Learner]) -> list[str]:
    async with httpx.AsyncClient(base_url=service.url, timeout=REQUEST_TIMEOUT) as http:
        results = await asyncio.wait_for(
            asyncio.gather(*(learner.retry_all(http) for learner in crowd)), timeout=90
        )
    return [problem for problems in results for problem in problems]


async def broken_invariants(stores: Stores, crowd: list[Learner]) -> list[str]:
    """What PostgreSQL holds against what the learners sent: each write exactly once."""
    problems: list[str] = []
    connection = await asyncpg.connect(to_libpq_url(stores.postgres_url))
    try:
        for learner in crowd:
            user = uuid.UUID(learner.account.id)
            kinds: dict[str, list[Sent]] = {"progress": [], "start": [], "submit": []}
            for request in learner.sent:
                kinds[request.kind].append(request)
            written = {request.path.rsplit("/", 1)[1] for request in kinds["progress"]}
            lessons = await connection.fetch(
                "SELECT lesson_content_id FROM lesson_progress WHERE user_id = $1", user
            )
            if {row[0] for row in lessons} != written:
                problems.append(
                    f"{user}: progress rows {sorted(r[0] for r in lessons)} != {sorted(written)}"
                )
            attempts = await connection.fetch(
                "SELECT id, submitted_at IS NOT NULL FROM quiz_attempts WHERE user_id = $1", user
            )
            if len(attempts) != len(kinds["start"]):
                problems.append(
                    f"{user}: {len(attempts)} attempts for {len(kinds['start'])} starts"
                )
            submitted = {f"/api/v1/quiz-attempts/{row[0]}/submit" for row in attempts if row[1]}
            if submitted != {request.path for request in kinds["submit"]}:
                problems.append(f"{user}: submitted attempts {submitted} != submits sent")
            keys = await connection.fetch(
                "SELECT key, route FROM idempotency_keys WHERE user_id = $1", user
            )
            expected_keys = {(r.key, r.path) for sent in kinds.values() for r in sent}
            if {(row[0], row[1]) for row in keys} != expected_keys:
                problems.append(f"{user}: {len(keys)} stored keys for {len(expected_keys)} sent")
            activity = await connection.fetch(
                "SELECT verb, object_type, object_id, count(*) FROM activity_log "
                "WHERE actor_id = $1 GROUP BY 1, 2, 3",
                user,
            )
            counts = {(verb, object_id): n for verb, _, object_id, n in activity}
            for (verb, object_id), n in counts.items():
                expected = {
                    "attempted": len(kinds["start"]),
                    "passed": None,
                    "failed": None,
                }.get(verb, 1)
                if expected is not None and n != expected:
                    problems.append(f"{user}: activity {verb} {object_id} recorded {n} times")
            graded = counts.get(("passed", QUIZ), 0) + counts.get(("failed", QUIZ), 0)
            if graded != len(kinds["submit"]):
                problems.append(
                    f"{user}: {graded} graded events for {len(kinds['submit'])} submits"
                )
    finally:
        await connection.close()
    return problems
