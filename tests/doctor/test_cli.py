"""``syllabus doctor`` as an operator runs it: a real process on real stores, loaded
by ``syllabus content load``; exit codes 0 (clean), 1 (drift left), 2 (bad usage)."""

import asyncio
import json
from pathlib import Path
from subprocess import CompletedProcess

import asyncpg

from tests.test_cli import run_cli


async def doctor(stores: dict[str, str], cwd: Path, *arguments: str) -> CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, "doctor", *arguments, cwd=cwd, **stores)


async def test_the_command_reports_fixes_and_exits_by_what_is_left(
    stores: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    loaded = await asyncio.to_thread(
        run_cli, "content", "load", str(folder), cwd=tmp_path, **stores
    )
    assert loaded.returncode == 0, loaded.stderr
    clean = await doctor(stores, tmp_path)
    assert (clean.returncode, clean.stdout) == (
        0,
        "No drift found.\n"
        "Checked 23 documents, 23 snapshots, 3 cards, 12 index rows, 0 learner rows.\n",
    )

    connection = await asyncpg.connect(stores["SYLLABUS_POSTGRES_URL"])
    try:
        await connection.execute(
            "UPDATE content_index SET title = 'Old' WHERE content_id = 'lesson:rest-basics-intro'"
        )
        drifted = await doctor(stores, tmp_path, "--format", "json")
        assert drifted.returncode == 1, drifted.stderr
        assert json.loads(drifted.stdout)["counts"] == {"index_out_of_step": 1}

        fixed = await doctor(stores, tmp_path, "--fix")
        assert fixed.returncode == 0, fixed.stderr
        assert "Nothing is left for a human." in fixed.stdout
        title = await connection.fetchval(
            "SELECT title FROM content_index WHERE content_id = 'lesson:rest-basics-intro'"
        )
        assert title == "Introduction"  # committed

        user = await connection.fetchval(
            "INSERT INTO users (email, name) VALUES ('ada@example.org', 'Ada') RETURNING id"
        )
        await connection.execute(
            "INSERT INTO lesson_progress (user_id, course_id, lesson_content_id) "
            "SELECT $1, id, 'lesson:never-was' FROM courses WHERE slug = 'rest-basics'",
            user,
        )
        left = await doctor(stores, tmp_path, "--fix")
        assert left.returncode == 1
        # Nothing was repairable, so nothing was repaired: the plain report, exit code 1.
        assert left.stdout.startswith("Drift: 1 finding, 0 repairable with --fix.\n")
        assert "lesson:never-was: 1 row(s) of 1 learner(s)" in left.stdout
        assert await connection.fetchval("SELECT count(*) FROM lesson_progress") == 1
    finally:
        await connection.close()

    bad = await doctor(stores, tmp_path, "--format", "xml")
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: --format: 'xml' is not one of text, json\n",
    )
    down = await doctor(
        {**stores, "SYLLABUS_POSTGRES_URL": "postgresql://nobody@127.0.0.1:1/none"}, tmp_path
    )
    assert down.returncode == 2  # not 1: nothing could be examined, so no drift is claimed
    assert down.stderr.startswith("error: cannot examine the stores: ")
    assert down.stdout == ""
