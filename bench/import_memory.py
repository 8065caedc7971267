"""Resident memory of the API worker before it serves anything, against the bare baseline.

Each side is imported in its own fresh interpreter, after the modules uvicorn itself
loads (so the difference is only the app): the service runs ``create_app()``, the
baseline imports ``bench/baseline_app.py``. Then, in the service's interpreter,
tracemalloc attributes what ``syllabus`` modules allocate while they run (their classes,
tables, models and routes, not the libraries they import) to each package. The worker's
peak under load is the ``outline_peak`` / ``lesson_peak`` scenarios' ``worker_peak_rss_mib``;
this says how much of it is there before the first request.

Run alone: .venv/bin/python -m bench.import_memory [--rounds 3]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

PREAMBLE = """
import sys, json, tempfile
from pathlib import Path
sys.path.insert(0, ".")
import uvicorn.main, uvicorn.loops.auto, uvicorn.protocols.http.httptools_impl
def rss_mib():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20
"""
SERVICE = """
import collections, tracemalloc
if TRACE:
    tracemalloc.start(200)
from syllabus.config import Settings
from syllabus.main import create_app
create_app(Settings(_env_file=None, env="test", jwt_secret="x" * 48,
    data_dir=Path(tempfile.mkdtemp()), public_base_url="http://127.0.0.1:8000"))
by_package = collections.Counter()
if TRACE:
    for stat in tracemalloc.take_snapshot().statistics("traceback"):
        for frame in reversed(stat.traceback):
            if frame.filename == "<frozen importlib._bootstrap>":
                break  # a library being imported, not a syllabus module's own code
            if "/src/syllabus/" in frame.filename:
                by_package[frame.filename.split("/src/syllabus/")[1].split("/")[0]] += stat.size
                break
print(json.dumps({"rss_mib": rss_mib(), "modules": len(sys.modules),
    "own_mib": {k: v / 2**20 for k, v in by_package.most_common()}}))
"""
BASELINE = """
import bench.baseline_app
print(json.dumps({"rss_mib": rss_mib(), "modules": len(sys.modules)}))
"""


def _run(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PREAMBLE + code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    for n in range(rounds):  # alternated, untraced (tracemalloc costs memory itself)
        service = _run("TRACE = False\n" + SERVICE)
        baseline = _run(BASELINE)
        ratio = float(service["rss_mib"]) / float(baseline["rss_mib"])  # type: ignore[arg-type]
        print(
            f"round {n + 1}: service {service['rss_mib']:.1f} MiB ({service['modules']} modules)"
            f", baseline {baseline['rss_mib']:.1f} MiB ({baseline['modules']} modules)"
            f", ratio {ratio:.2f}"
        )
    traced = _run("TRACE = True\n" + SERVICE)["own_mib"]
    assert isinstance(traced, dict)
    print(f"allocated by syllabus modules' own code: {sum(traced.values()):.1f} MiB")
    print("  " + ", ".join(f"{name} {mib:.2f}" for name, mib in traced.items()))


if __name__ == "__main__":
    main()
