"""The Stripe and YooKassa SDKs cost memory at import (``stripe`` about 10 MiB RSS): a
process imports one only when its provider is configured. Likewise the API worker never
imports what only the CLI, the content loader, the doctor, the analytics exports or the
model client need (bench/RESULTS.md, "Worker RSS at import": the worker's RSS is held
against 1.3x the bare baseline's). Checked in fresh interpreters, since this test
process has imported all of them long ago."""

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from pathlib import Path

from syllabus.commerce.deps import build_providers
from syllabus.config import Settings
from syllabus.main import create_app

settings = Settings(
    _env_file=None,
    env="test",
    jwt_secret="x" * 48,
    data_dir=Path(sys.argv[1]),
    public_base_url="http://127.0.0.1:8000",
    **dict(arg.split("=", 1) for arg in sys.argv[2:]),
)
create_app(settings)
offered = sorted(build_providers(settings))
print(",".join(offered), ",".join(m for m in ("stripe", "yookassa") if m in sys.modules))
print(",".join(sorted(sys.modules)))
"""

NOT_IN_THE_WORKER = (
    "openai",  # the AI layer's model client: ~14 MiB, imported when a model is configured
    "httpx",  # ~5 MiB, only the SDKs and the benchmarks use it
    "markdown_it",  # the MDX parser: the content loader only
    "mdit_py_plugins",
    "alembic",  # migrations: ~7 MiB, the CLI only
    "typer",  # the CLI (with rich: ~11 MiB for syllabus.cli)
    "rich",
    "syllabus.cli",
    "syllabus.content.loader",
    "syllabus.doctor",
    "syllabus.analytics",
    "syllabus.db.migrate",
    "syllabus.embedded",
    "argon2",  # password hashing: at the first sign-up, sign-in or password change
    "_cffi_backend",
    "gridfs",  # homework uploads: at the first file stored or read
    "filetype",  # homework uploads: at the first file checked
)
"""Packages (and their submodules) the API worker must not import at start."""


def _probe(data_dir: Path, *configured: str) -> list[str]:
    """The probe's lines, run in a fresh interpreter with these settings."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir), *configured],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")


STRIPE = ("stripe_secret_key=sk_test_x", "stripe_webhook_secret=whsec_x")
YOOKASSA = ("yookassa_shop_id=1", "yookassa_secret_key=test_x")


@pytest.mark.parametrize(
    ("configured", "offered", "imported"),
    [
        ((), "sandbox", ""),
        (STRIPE, "sandbox,stripe", "stripe"),
        (YOOKASSA, "sandbox,yookassa", "yookassa"),
    ],
    ids=["none", "stripe", "yookassa"],
)
def test_an_sdk_is_imported_only_when_its_provider_is_configured(
    tmp_path: Path, configured: tuple[str, ...], offered: str, imported: str
) -> None:
    assert _probe(tmp_path, *configured)[0].split(" ") == [offered, imported]


def test_the_api_worker_imports_no_cli_loader_or_model_client(tmp_path: Path) -> None:
    imported = _probe(tmp_path)[1].split(",")
    assert "syllabus.main" in imported  # the probe saw the worker's modules
    assert [
        name
        for name in imported
        if any(name == heavy or name.startswith(f"{heavy}.") for heavy in NOT_IN_THE_WORKER)
    ] == []
