"""Issue [7/8] benchmark: peak memory of ``syllabus content load`` as the folder grows.

For each size (default 40, 500 and 5,000 lessons in courses of 40, each with a quiz,
from bench/content_load.py's generator), a fresh pair of embedded stores is migrated and
the installed CLI (``syllabus content load FOLDER``) loads the folder as its own
process; its peak RSS comes from the kernel (``os.wait4`` rusage, ``ru_maxrss``). The
smallest size is the baseline: the interpreter, imports and the two connections. The
question is whether the growth above it tracks the documents (the folder's bytes) or more.

Run: .venv/bin/python -m bench.load_memory [--sizes 40 500 5000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.content_load import generate
from bench.harness import write_result
from syllabus.db import migrate
from syllabus.embedded import embedded_stores


def measure(lessons: int) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory(prefix="syl-mem-") as scratch,
        embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo),
    ):
        assert pg is not None
        assert mongo is not None
        migrate.upgrade(url=pg)
        folder = generate(Path(scratch) / "content", lessons=lessons, per_course=40)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYLLABUS_")}
        env.update(
            SYLLABUS_ENV="test",
            SYLLABUS_POSTGRES_URL=pg,
            SYLLABUS_MONGO_URL=mongo,
            SYLLABUS_MONGO_DB="bench_memory",
            SYLLABUS_LOG_LEVEL="warning",
        )
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "syllabus"), "content", "load", str(folder)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 0, f"content load exited with {process.returncode}"
        files = [path for path in folder.rglob("*") if path.is_file()]
        return {
            "lessons": float(lessons),
            "files": float(len(files)),
            "folder_mib": sum(path.stat().st_size for path in files) / 2**20,
            "peak_rss_mib": usage.ru_maxrss / 1024,  # Linux reports KiB
            "seconds": time.perf_counter() - started,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 500, 5000])
    sizes = sorted(parser.parse_args().sizes)
    runs = [measure(lessons) for lessons in sizes]
    base = runs[0]
    result: dict[str, Any] = {
        "benchmark": "load_memory",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
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
    write_result("load_memory", result)


if __name__ == "__main__":
    main()
