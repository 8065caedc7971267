"""Fetch the pinned ``uv`` binary from PyPI into .tools/bin, using only the standard library.

A fresh machine needs nothing but Python 3.11+: no pip, no python3-venv. The wheel's
SHA-256 is pinned here per platform and checked before anything is unpacked.

Usage: python3 scripts/bootstrap_uv.py DEST_DIR
"""

import hashlib
import io
import json
import platform
import stat
import sys
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.8"
INDEX = "https://pypi.org/simple/uv/"
# (system, machine) -> (wheel filename, sha256)
WHEELS = {
    ("Linux", "x86_64"): (
        "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "e18a57b8b352eb7c8feb317b9f6f533c8f0ad9673fd6cf34bbe3cf1a9f6a8984",
    ),
    ("Linux", "aarch64"): (
        "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
        "0b3e8b1a4f5e405e31e2ff33de8af4744831e9f7338539671efbd8c3c94e791d",
    ),
    ("Darwin", "x86_64"): (
        "macosx_10_12_x86_64",
        "b7124ca1956ec2e476a1003ea5715a15f0266afaec37f4dc9c6972ba8183e6d1",
    ),
    ("Darwin", "arm64"): (
        "macosx_11_0_arm64",
        "62b6943c7fd64fac6854f780bea6e0359e5a5bc3241f83ee357bb38276afac49",
    ),
}


def main(dest: Path) -> None:
    key = (platform.system(), platform.machine())
    if key not in WHEELS:
        sys.exit(f"bootstrap_uv: no pinned uv wheel for {key}; install uv {VERSION} yourself")
    tag, expected = WHEELS[key]
    filename = f"uv-{VERSION}-py3-none-{tag}.whl"
    request = urllib.request.Request(
        INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (https constant)
        files = {item["filename"]: item["url"] for item in json.load(response)["files"]}
    if filename not in files:
        sys.exit(f"bootstrap_uv: {filename} is not on {INDEX}")
    with urllib.request.urlopen(files[filename], timeout=300) as response:  # noqa: S310
        wheel = response.read()
    actual = hashlib.sha256(wheel).hexdigest()
    if actual != expected:
        sys.exit(f"bootstrap_uv: sha256 mismatch for {filename}: {actual}")
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        member = f"uv-{VERSION}.data/scripts/uv"
        target = dest / "uv"
        target.write_bytes(archive.read(member))
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"bootstrap_uv: uv {VERSION} -> {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".tools/bin"))
