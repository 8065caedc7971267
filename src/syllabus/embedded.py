"""Local database servers for a laptop or CI with nothing installed.

PostgreSQL comes from ``pgserver`` (a real PostgreSQL 16 inside a wheel, on a unix
socket). The MongoDB side is any server speaking the wire protocol; here that is
SecantusDB, which is GPL-licensed and therefore always runs as a *separate process* and
ships only in the ``embedded`` extra. The service itself receives nothing but URLs.
"""

import contextlib
import ctypes
import json
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

logger = logging.getLogger(__name__)
# pgserver narrates every start at INFO and platformdirs warns about XDG_RUNTIME_DIR on
# headless machines; neither helps someone starting the service.
logging.getLogger("pgserver").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DATABASE_NAME = "syllabus"
OWNER_ROLE = "syllabus_owner"
"""Owns the schema: migrations and operators' commands (``SYLLABUS_POSTGRES_OWNER_URL``)."""
APP_ROLE = "syllabus_app"
"""What the API connects as: DML only (``SYLLABUS_POSTGRES_URL``)."""
SUPERUSER = "postgres"
"""pgserver's bootstrap superuser: provisions the two roles, nothing else."""
MONGO_SERVER_COMMAND = "secantusd-py"
MONGO_CACHE_SIZE = "4G"
START_TIMEOUT_SECONDS = 60.0


class EmbeddedError(RuntimeError):
    """An embedded server could not be started; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


AfterUse = Literal["stop", "delete", "keep"]


def _forget_dead_handles(datadir: Path) -> None:
    """pgserver counts the processes using a server in a file and stops it when the last
    one leaves; a process that was SIGKILLed never leaves, so drop the dead ones first."""
    handles = datadir / ".handle_pids.json"
    if not handles.exists():
        return
    import psutil

    with contextlib.suppress(ValueError, OSError):
        pids = json.loads(handles.read_text(encoding="utf-8"))
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive), encoding="utf-8")


@dataclass(frozen=True)
class PostgresUrls:
    """libpq URLs of the ``syllabus`` database on one server, one per role."""

    app: str
    owner: str
    superuser: str | None = None
    """As the server's superuser, where Syllabus runs the server itself: for creating
    other databases (tests) and bulk loads (benchmarks), never for the service."""


@dataclass
class EmbeddedPostgres:
    """A pgserver instance in ``datadir``, with the two roles of a deployment
    (:mod:`syllabus.db.roles`) and the ``syllabus`` database owned by the owner.

    ``after_use`` says what happens when the last process using it stops: ``stop`` the
    server and keep the data, ``delete`` both (tests), or ``keep`` it running for other
    tools (``syllabus db url``).
    """

    datadir: Path
    after_use: AfterUse = "stop"
    _server: Any = field(default=None, init=False, repr=False)

    def start(self) -> PostgresUrls:
        """Start (or reuse) the server, make sure the roles and the ``syllabus`` database
        exist (a database from before the roles is handed to the owner), and return its
        URLs."""
        from syllabus.db.roles import provision_script

        try:
            import pgserver
        except ImportError as error:  # pragma: no cover - depends on the install
            raise EmbeddedError(
                "pgserver is not installed: install the 'embedded' extra or set "
                "SYLLABUS_POSTGRES_URL"
            ) from error
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.datadir)
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            self.datadir, cleanup_mode=None if self.after_use == "keep" else self.after_use
        )
        script = provision_script(  # constant names only: nothing user-supplied reaches SQL
            database=DATABASE_NAME, owner=OWNER_ROLE, app=APP_ROLE, superuser=SUPERUSER
        )
        try:
            self._server.psql(script)
        except subprocess.CalledProcessError as error:
            raise EmbeddedError(
                f"could not set up the roles of the embedded PostgreSQL; see {self.datadir}/log"
            ) from error
        info = self._server.get_postmaster_info()
        return PostgresUrls(
            app=str(info.get_uri(user=APP_ROLE, database=DATABASE_NAME)),
            owner=str(info.get_uri(user=OWNER_ROLE, database=DATABASE_NAME)),
            superuser=str(info.get_uri(user=SUPERUSER, database=DATABASE_NAME)),
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _die_with_parent() -> None:
    """Linux: let the kernel stop the child if we are killed, so no orphan holds the files."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _answers(url: str) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


@dataclass
class EmbeddedMongo:
    """A MongoDB wire-protocol server in its own process, on 127.0.0.1.

    ``storage`` is a folder kept across restarts, or ``None`` for an in-memory server.
    """

    storage: Path | None
    port: int = 0
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        running = self._running_url()
        if running is not None:
            return running
        executable = shutil.which(MONGO_SERVER_COMMAND) or str(
            Path(sys.executable).with_name(MONGO_SERVER_COMMAND)
        )
        if not Path(executable).exists():
            raise EmbeddedError(
                f"{MONGO_SERVER_COMMAND} not found: install the 'embedded' extra or set "
                "SYLLABUS_MONGO_URL"
            )
        if not self.port:
            self.port = free_port()
        if self.storage is not None:
            self.storage.mkdir(parents=True, exist_ok=True)
        command = [
            executable,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage) if self.storage is not None else ":memory:",
            "--log-level",
            "WARNING",
            # An upper bound, filled lazily. It also bounds one transaction (about 15 %,
            # like mongod's TransactionTooLargeForCache guard), and a content load is one
            # transaction: at the default 1G a 10,000-course catalog did not fit.
            "--cache-size",
            MONGO_CACHE_SIZE,
        ]
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            command,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        self._wait_until_ready()
        if self.url_file is not None:
            self.url_file.write_text(self.url, encoding="utf-8")
        return self.url

    @property
    def url_file(self) -> Path | None:
        """Where a server on a data folder leaves its URL, so other commands (``syllabus
        content load`` while ``make run`` runs) use it instead of starting a second one."""
        return None if self.storage is None else self.storage.with_suffix(".url")

    def _running_url(self) -> str | None:
        if self.url_file is None or not self.url_file.exists():
            return None
        url = self.url_file.read_text(encoding="utf-8").strip()
        if _answers(url):
            return url
        self.url_file.unlink(missing_ok=True)  # left behind by a server that was killed
        return None

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise EmbeddedError(
                    f"the Mongo wire server exited with code {self._process.returncode}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if _answers(self.url):
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedError(f"the Mongo wire server did not answer within {START_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        """Stop gracefully so WiredTiger checkpoints; kill only if it hangs. A server this
        object did not start (found through its URL file) is left running."""
        process, self._process = self._process, None
        if process is not None and self.url_file is not None:
            self.url_file.unlink(missing_ok=True)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


@contextlib.contextmanager
def embedded_stores(
    *, data_dir: Path | None, need_postgres: bool, need_mongo: bool
) -> Iterator[tuple[PostgresUrls | None, str | None]]:
    """Start whichever stores are missing; ``data_dir=None`` means throwaway servers."""
    import tempfile

    postgres: EmbeddedPostgres | None = None
    mongo: EmbeddedMongo | None = None
    scratch = None if data_dir is not None else tempfile.mkdtemp(prefix="syl-")
    root = data_dir if data_dir is not None else Path(scratch or ".")
    try:
        postgres_urls: PostgresUrls | None = None
        mongo_url: str | None = None
        if need_postgres:
            postgres = EmbeddedPostgres(
                root / "pg", after_use="stop" if data_dir is not None else "delete"
            )
            postgres_urls = postgres.start()
        if need_mongo:
            mongo = EmbeddedMongo(
                root / "mongo" if data_dir is not None else None,
                log_path=root / "mongo.log",
            )
            mongo_url = mongo.start()
        yield postgres_urls, mongo_url
    finally:
        if mongo is not None:
            mongo.stop()
        if postgres is not None:
            postgres.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
