"""``syllabus users create-admin`` for the first admin, reading the password from stdin."""

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg

from syllabus.db import migrate


def create_admin(url: str, email: str, stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syllabus.cli", "users", "create-admin", email],
        input=stdin,
        env={"PATH": "/usr/bin:/bin", "SYLLABUS_POSTGRES_URL": url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_create_admin_then_promote_and_reject_a_weak_password(
    scratch_database: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    created = create_admin(
        scratch_database, "Root@Example.org", "a long admin password\n", tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("root@example.org: created, id ")

    weak = create_admin(scratch_database, "other@example.org", "short\n", tmp_path)
    assert weak.returncode == 2
    assert weak.stderr.strip() == "error: password: String should have at least 8 characters"

    again = create_admin(scratch_database, "root@example.org", "ignored password\n", tmp_path)
    assert again.returncode == 0, again.stderr
    assert "promoted to admin (password unchanged)" in again.stdout

    connection = await asyncpg.connect(scratch_database)
    try:
        rows = await connection.fetch("SELECT email, role, password_hash FROM users")
    finally:
        await connection.close()
    assert [(row["email"], row["role"]) for row in rows] == [("root@example.org", "admin")]
    assert rows[0]["password_hash"].startswith("$argon2id$")
