"""Peak memory of ``syllabus content load`` as the folder grows.

For each size (the suite: 40, 500 and 5,000 lessons in courses of 40, each with a quiz,
from bench/dataset.py's generator), the installed CLI (``syllabus content load FOLDER``)
loads the folder as its own process into a new migrated PostgreSQL database and a new
MongoDB database on the given servers; its peak RSS comes from the kernel (
its ``VmHWM`` as it exits). The smallest size is the baseline: the interpreter, imports and
the two connections. The question is whether the growth above it tracks the documents
(the folder's bytes) or more.

Run alone: .venv/bin/python -m bench.load_memory [--sizes 40 500 5000]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.content_load import own_database
from bench.dataset import generate
from bench.harness import write_result
from syllabus.embedded import embedded_stores

# Runs the CLI and, as the process exits, writes its own high-water RSS (VmHWM). Not
# the wait4 rusage: Linux carries the parent's peak into a vforked child's ru_maxrss at
# exec, so that figure moved with the size of the benchmark process itself.
PROBE = """
import atexit, sys
def report(path=sys.argv.pop()):
    status = open("/proc/self/status").read()
    line = next(l for l in status.splitlines() if l.startswith("VmHWM:"))
    open(path, "w").write(line.split()[1])
atexit.register(report)
sys.argv = ["syllabus", "content", "load", sys.argv[1]]
from syllabus.cli import app
app()
"""


def _load_peak_kib(folder: Path, env: dict[str, str]) -> int:
    """``syllabus content load folder`` as its own process; its peak RSS in KiB."""
    report = folder.parent / "vmhwm"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), str(report)],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return int(report.read_text())


async def measure(postgres_url: str, mongo_url: str, lessons: int) -> dict[str, float]:
    database = f"bench_memory_{lessons}"
    with tempfile.TemporaryDirectory(prefix="syl-mem-") as scratch:
        folder = Path(scratch) / "content"
        generate(folder, lessons=lessons, per_course=40)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
        env.update(
            SYLLABUS_ENV="test",
            SYLLABUS_POSTGRES_URL=await own_database(postgres_url, database),
            SYLLABUS_MONGO_URL=mongo_url,
            SYLLABUS_MONGO_DB=database,
            SYLLABUS_LOG_LEVEL="warning",
        )
        started = time.perf_counter()
        peak_kib = await asyncio.to_thread(_load_peak_kib, folder, env)
        files = [path for path in folder.rglob("*") if path.is_file()]
        return {
            "lessons": float(lessons),
            "files": float(len(files)),
            "folder_mib": sum(path.stat().st_size for path in files) / 2**20,
            "peak_rss_mib": peak_kib / 1024,
            "seconds": time.perf_counter() - started,
        }


async def load_memory(postgres_url: str, mongo_url: str, sizes: list[int]) -> dict[str, Any]:
    runs = [await measure(postgres_url, mongo_url, lessons) for lessons in sorted(sizes)]
    base = runs[0]
    return {
        "runs": runs,
        "growth_over_smallest": [
            {
                "lessons": run["lessons"],
                "rss_growth_mib": run["peak_rss_mib"] - base["peak_rss_mib"],
                "folder_growth_mib": run["folder_mib"] - base["folder_mib"],
                "rss_growth_per_folder_mib": (run["peak_rss_mib"] - base["peak_rss_mib"])
                / max(run["folder_mib"] - base["folder_mib"], 1e-9),
            }
            for run in runs[1:]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 500, 5000])
    sizes = parser.parse_args().sizes
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert pg.superuser is not None  # one role for all: the loader's memory is measured
        assert mongo is not None
        write_result("load_memory", asyncio.run(load_memory(pg.superuser, mongo, sizes)))


if __name__ == "__main__":
    main()
