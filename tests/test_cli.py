"""The ``syllabus`` command as a user runs it: real processes, real servers."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from pymongo import MongoClient

from syllabus.embedded import EmbeddedPostgres, free_port


def cli_environment(**variables: str) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SYLLABUS_")
    }
    environment.update(variables)
    return environment


def run_cli(*arguments: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syllabus.cli", *arguments],
        env=cli_environment(**variables),
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # never a terminal to ask on
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_db_commands_against_a_given_url(scratch_database: str, tmp_path: Path) -> None:
    url = scratch_database
    upgraded = run_cli("db", "upgrade", cwd=tmp_path, SYLLABUS_POSTGRES_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    current = run_cli("db", "current", cwd=tmp_path, SYLLABUS_POSTGRES_URL=url)
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout
    printed = run_cli("db", "url", cwd=tmp_path, SYLLABUS_POSTGRES_URL=url)
    assert printed.stdout.strip() == url
    connection = await asyncpg.connect(printed.stdout.strip())
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await connection.close()
    downgraded = run_cli("db", "downgrade", "base", cwd=tmp_path, SYLLABUS_POSTGRES_URL=url)
    assert downgraded.returncode == 0, downgraded.stderr
    current = run_cli("db", "current", cwd=tmp_path, SYLLABUS_POSTGRES_URL=url)
    assert "(head)" not in current.stdout


def test_downgrade_requires_a_target(tmp_path: Path) -> None:
    result = run_cli("db", "downgrade", cwd=tmp_path)
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


class DevServer:
    """``syllabus dev`` (what ``make run`` starts) as a child process."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.log = data_dir.parent / f"dev-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "syllabus.cli", "dev"],
                env=cli_environment(
                    SYLLABUS_DATA_DIR=str(self.data_dir), SYLLABUS_PORT=str(self.port)
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"dev server not ready: {self.log.read_text()}")

    def urls(self) -> tuple[str, str]:
        text = self.log.read_text()
        postgres = re.findall(r"PostgreSQL: (\S+)", text)[-1]
        mongo = re.findall(r"MongoDB:\s+(\S+)", text)[-1]
        return postgres, mongo

    def children(self) -> list[psutil.Process]:
        assert self.process is not None
        children: list[psutil.Process] = psutil.Process(self.process.pid).children(recursive=True)
        return children

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=60)

    def postgres_running(self) -> bool:
        return (self.data_dir / "pg" / "postmaster.pid").exists()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    # PostgreSQL's unix socket lives in the data folder and its path is limited to ~107 bytes.
    with tempfile.TemporaryDirectory(prefix="syl-") as scratch:
        yield Path(scratch)


async def test_dev_server_serves_then_keeps_its_data_across_restarts(short_tmp: Path) -> None:
    server = DevServer(short_tmp / "data")
    server.start()
    try:
        postgres_url, mongo_url = server.urls()
        assert postgres_url.endswith(f"host={short_tmp}/data/pg")
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(
                "INSERT INTO categories (name, slug) VALUES ('Kept', 'kept-across-restarts')"
            )
        finally:
            await connection.close()
        mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
        with mongo:
            kept: dict[str, Any] = {"_id": "course:kept", "kept": True}
            mongo["syllabus"]["persistence_check"].insert_one(kept)
        children = server.children()
        assert any("secantusd" in " ".join(child.cmdline()) for child in children)
    finally:
        server.stop(signal.SIGTERM)  # what systemd, Docker and `timeout` send
    assert server.process is not None
    assert server.process.returncode == 0
    # Both stores it started are stopped: nothing left holding the data folder.
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not [child for child in alive if "secantusd" in " ".join(child.cmdline())]
    assert not server.postgres_running()

    server.start()
    try:
        postgres_url, mongo_url = server.urls()
        connection = await asyncpg.connect(postgres_url)
        try:
            slugs = {row["slug"] for row in await connection.fetch("SELECT slug FROM categories")}
            courses = await connection.fetchval("SELECT count(*) FROM courses")
        finally:
            await connection.close()
        assert "kept-across-restarts" in slugs
        assert courses >= 4  # `make run` loaded content_seed
        mongo_again: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
        with mongo_again:
            assert mongo_again["syllabus"]["persistence_check"].find_one({"_id": "course:kept"})
    finally:
        server.stop(signal.SIGINT)  # Ctrl+C
    assert server.process is not None
    assert server.process.returncode == 0
    assert not server.postgres_running()


async def test_dev_server_recovers_after_being_killed(short_tmp: Path) -> None:
    """SIGKILL gives no chance to clean up: the Mongo wire server follows its parent, and
    the next start adopts the still-running PostgreSQL and stops it properly later."""
    server = DevServer(short_tmp / "data")
    server.start()
    children = server.children()
    assert server.process is not None
    server.process.kill()
    server.process.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not [child for child in alive if "secantusd" in " ".join(child.cmdline())]
    assert server.postgres_running()  # orphaned, but holding no lock we cannot take over

    server.start()
    server.stop()
    assert not server.postgres_running()


async def test_db_url_leaves_the_embedded_server_running_for_other_tools(
    short_tmp: Path,
) -> None:
    data_dir = short_tmp / "data"
    printed = run_cli("db", "url", cwd=short_tmp, SYLLABUS_DATA_DIR=str(data_dir))
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    assert url == f"postgresql://syllabus_owner:@/syllabus?host={data_dir}/pg"
    app = run_cli("db", "url", "--app", cwd=short_tmp, SYLLABUS_DATA_DIR=str(data_dir))
    assert app.stdout.strip() == f"postgresql://syllabus_app:@/syllabus?host={data_dir}/pg"
    try:
        for printed_url, role in ((url, "syllabus_owner"), (app.stdout.strip(), "syllabus_app")):
            connection = await asyncpg.connect(printed_url)
            try:
                assert await connection.fetchval("SELECT current_database()") == "syllabus"
                assert await connection.fetchval("SELECT current_user") == role
            finally:
                await connection.close()
    finally:
        # Adopt the server and stop it, as `make run` does when it exits.
        adopted = EmbeddedPostgres(data_dir / "pg", after_use="stop")
        adopted.start()
        adopted.stop()
    assert not (data_dir / "pg" / "postmaster.pid").exists()


@pytest.mark.parametrize("command", [["db", "url"], ["purge"]])
def test_outside_a_project_a_tool_does_not_create_a_database(
    tmp_path: Path, command: list[str]
) -> None:
    """It used to start a new, empty PostgreSQL under ./.data and print its URL."""
    result = run_cli(*command, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: no database here:" in result.stderr
    assert "SYLLABUS_POSTGRES_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
