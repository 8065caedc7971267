"""``syllabus content load`` as an author runs it, a real process on real stores: the
whole-store prune asks first ([1/8] item 21), and a load meeting a transaction that a
killed load left open waits for it, saying so, instead of failing ([1/8] item 18)."""

import asyncio
import sys
from pathlib import Path

from pymongo import AsyncMongoClient

from tests.content.folder import make_author_folder, make_folder
from tests.test_cli import cli_environment, run_cli

RETRY_MESSAGE = "another load's transaction is still open; retrying"
WAIT_SECONDS = 60.0


async def content_load(stores: dict[str, str], cwd: Path, *arguments: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(run_cli, "content", "load", *arguments, cwd=cwd, **stores)
    return done.returncode, done.stdout, done.stderr


async def test_a_whole_store_prune_says_what_it_archives_and_needs_a_yes(
    stores: dict[str, str], tmp_path: Path
) -> None:
    mine = make_folder(tmp_path / "mine", source="mine")
    other = make_author_folder(tmp_path / "other", source="other", slug="other-course")
    for folder in (mine, other):
        code, _, stderr = await content_load(stores, tmp_path, str(folder))
        assert code == 0, stderr

    code, _, stderr = await content_load(stores, tmp_path, str(mine), "--prune-all-sources")
    assert code == 2
    assert "--prune-all-sources archives everything in the stores that this folder" in stderr
    assert "  6 item(s) of source 'other'" in stderr
    assert "--prune-all-sources: add --yes to confirm (no terminal to ask on)" in stderr
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(stores["SYLLABUS_MONGO_URL"])
    try:
        course = client[stores["SYLLABUS_MONGO_DB"]]["course_content"]
        status = await course.find_one({"_id": "course:other-course"}, {"status": 1})
        assert status == {"_id": "course:other-course", "status": "published"}  # untouched

        code, _, stderr = await content_load(
            stores, tmp_path, str(mine), "--prune-all-sources", "--yes"
        )
        assert code == 0, stderr
        status = await course.find_one({"_id": "course:other-course"}, {"status": 1})
        assert status == {"_id": "course:other-course", "status": "archived"}
    finally:
        await client.close()


async def test_a_rerun_waits_for_the_transaction_a_killed_load_left_open(
    stores: dict[str, str], tmp_path: Path
) -> None:
    """A load killed mid-transaction leaves it open on the server until it expires; the
    next load's writes meet it (WriteConflict, TransientTransactionError). Here the test
    holds such a transaction on a lesson the load rewrites, then lets it go."""
    folder = make_folder(tmp_path / "content")
    code, _, stderr = await content_load(stores, tmp_path, str(folder))
    assert code == 0, stderr
    lesson_file = folder / "courses" / "rest-basics" / "lessons" / "01-intro.mdx"
    lesson_file.write_text(lesson_file.read_text() + "\nOne more line.\n", encoding="utf-8")

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(stores["SYLLABUS_MONGO_URL"])
    lessons = client[stores["SYLLABUS_MONGO_DB"]]["lesson_content"]
    try:
        async with client.start_session() as held:
            await held.start_transaction()
            await lessons.update_one(
                {"_id": "lesson:rest-basics-intro"},
                {"$set": {"title": "Half-written"}},
                session=held,
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "syllabus.cli",
                "content",
                "load",
                str(folder),
                cwd=tmp_path,
                env=cli_environment(**stores),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            assert process.stderr is not None
            said: list[str] = []
            try:
                while not any(RETRY_MESSAGE in line for line in said):
                    line = await asyncio.wait_for(process.stderr.readline(), WAIT_SECONDS)
                    assert line, f"the load ended without waiting: {said}"
                    said.append(line.decode())
                await held.abort_transaction()  # the killed load's transaction expires
                rest, _ = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        stdout = rest.decode()
        assert process.returncode == 0, said
        assert "PostgreSQL catalog: in sync." in stdout
        assert said[-1].startswith(f"{RETRY_MESSAGE} in 0.2 s (attempt 2)")
        stored = await lessons.find_one({"_id": "lesson:rest-basics-intro"})
        assert stored is not None
        assert stored["title"] == "Introduction"
        assert "One more line." in str(stored["source"])
        assert stored["version"] == 2
    finally:
        await client.close()
