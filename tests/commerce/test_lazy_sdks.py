"""The Stripe and YooKassa SDKs cost memory at import (``stripe`` about 16 MiB RSS): a
process imports one only when its provider is configured. Checked in fresh interpreters,
since this test process has imported both long ago."""

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
"""

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
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), *configured],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0].split(" ") == [offered, imported]
