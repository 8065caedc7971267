"""The house's structure holds: the import contract fails on a back-arrow, hooks refuse
to fire unwired, and the base's activity writer matches the table ``progress`` owns."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.content.hooks import achievements_loaded
from syllabus.db.activity import ACTIVITY_LOG
from syllabus.kit.hooks import Hook, HookNotWired
from syllabus.progress.models import ActivityLog

ROOT = Path(__file__).resolve().parents[1]
BACK_ARROW = "from syllabus.learning import repository as learning  # noqa: F401\n"


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contract, on the package found in ``source``."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--no-cache",
            "--config",
            str(ROOT / ".importlinter"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contract_is_kept_and_a_back_arrow_breaks_it(tmp_path: Path) -> None:
    kept = lint_imports(ROOT / "src")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "syllabus", copy / "syllabus")
    catalog = copy / "syllabus" / "catalog" / "service.py"
    catalog.write_text(catalog.read_text(encoding="utf-8") + BACK_ARROW, encoding="utf-8")
    broken = lint_imports(copy)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "syllabus.catalog is not allowed to import syllabus.learning" in broken.stdout


async def test_a_required_hook_refuses_to_fire_unwired(session: AsyncSession) -> None:
    hook: Hook[[AsyncSession, list[str]]] = Hook("test.unwired", required=True)
    with pytest.raises(HookNotWired, match=r"test\.unwired"):
        await hook.fire(session, [])
    seen: list[list[str]] = []

    async def handler(_session: AsyncSession, items: list[str]) -> None:
        seen.append(items)

    hook.register(handler)
    hook.register(handler)  # wiring twice changes nothing
    await hook.fire(session, ["a"])
    assert seen == [["a"]]


def test_the_app_is_wired() -> None:
    """The loader's achievements reach ``progress`` (main.wire, run by create_app)."""
    assert [h.__qualname__ for h in achievements_loaded.handlers] == ["apply_achievements"]


def test_the_activity_writer_matches_the_table_progress_owns() -> None:
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    table = ActivityLog.__table__  # type: ignore[attr-defined]
    for written in ACTIVITY_LOG.columns:
        assert written.name in table.c, written.name
        owned = table.c[written.name].type.compile(dialect=dialect)
        assert written.type.compile(dialect=dialect) == owned, written.name
