"""Profile the service under one scenario's load with py-spy, to see where a missed
goal goes: a small dataset, the service and baseline servers as in the suite, a closed
loop of CONCURRENCY clients on the scenario's requests while ``py-spy record`` samples
the service's worker. Writes a speedscope profile and a text summary (the functions
with the most samples, on their own and with callees) to bench/profiles/.

Run: .venv/bin/python -m bench.profile outline [--seconds 10] [--rate 250]

``exam_start`` and ``exam_autosave`` profile bench/exam_day.py's two phases: starts of
fresh attempts (each learner and exam once), and autosaves of attempts started before
the recording.
"""

import argparse
import asyncio
import collections
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import dataset
from bench.exam_day import autosave_body, learners_of
from bench.harness import (
    SERVICE,
    Load,
    Requests,
    client,
    closed_loop,
    server,
    service_env,
)
from bench.outline import outline_requests
from bench.progress import BODY, progress_requests
from syllabus.db import migrate
from syllabus.embedded import APP_ROLE, embedded_stores

PROFILES = Path(__file__).parent / "profiles"
SIZES = dataset.Sizes(
    courses=50, lessons=40, quizzes=1, catalog=50, learners=5000, progress=100_000, attempts=5000
)


SCENARIOS = ("outline", "progress", "exam_start", "exam_autosave")
WARM = 300
"""Exam scenarios: the first WARM learners warm the service up; the rest are recorded."""


async def _requests(
    name: str, data: dataset.Dataset, http: httpx.AsyncClient
) -> tuple[Requests, str, bytes | None]:
    if name == "outline":
        return outline_requests(data)[0], "GET", None
    if name == "progress":
        return progress_requests(data)[0], "PUT", BODY
    learners = learners_of(data, starters=len(data.enrolled))
    starts = [(f"/api/v1/exams/{exam}/attempts", headers) for headers, exam in learners]
    if name == "exam_start":
        return starts, "POST", None
    starts = starts[:800]
    started = [(await http.post(url, headers=headers)).json() for url, headers in starts]
    # Every attempt of the bench's exams has the same task numbers: one body serves all.
    body = json.dumps(autosave_body(started[0])).encode()
    saves = [
        (f"/api/v1/exam-attempts/{a['id']}/answers", h)
        for a, (_, h) in zip(started, starts, strict=True)
    ]
    return saves, "PUT", body


def summarise(collapsed: Path, top: int = 40) -> str:
    """Own and total samples per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    lines = [f"{samples} samples", "", "own %   function"]
    lines += [f"{100 * n / samples:5.1f}   {f}" for f, n in own.most_common(top)]
    lines += ["", "total % function (with callees)"]
    lines += [f"{100 * n / samples:5.1f}   {f}" for f, n in total.most_common(top)]
    return "\n".join(lines) + "\n"


async def run(name: str, seconds: float) -> Path:
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert pg.superuser is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg.owner, app_role=APP_ROLE)
        data = await dataset.build(pg.superuser, mongo, SIZES)
        env = service_env(pg.app, mongo)  # the service signs in as the app role
        load = Load(concurrency=16)
        with server(SERVICE, env, ready_path="/health/live") as service:
            async with client(service.url, load, {"Content-Type": "application/json"}) as http:
                requests, method, content = await _requests(name, data, http)
                if name == "exam_start":  # each learner starts once: warm on the first
                    warm, requests = requests[:WARM], requests[WARM:]
                else:
                    warm = requests
                await closed_loop(
                    http, warm, concurrency=16, seconds=2, method=method, content=content
                )
                PROFILES.mkdir(exist_ok=True)
                stem = PROFILES / f"{name}-{datetime.now(UTC):%Y-%m-%d}"
                collapsed = stem.with_suffix(".collapsed")
                recorder = await asyncio.create_subprocess_exec(
                    *[
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(service.pid),
                        "--rate",
                        "250",
                        "--duration",
                        str(int(seconds)),
                        "--format",
                        "raw",
                        "--output",
                        str(collapsed),
                    ],
                    stdout=asyncio.subprocess.DEVNULL,
                )
                rate = await closed_loop(
                    http, requests, concurrency=16, seconds=seconds, method=method, content=content
                )
                await recorder.wait()
    summary = stem.with_suffix(".txt")
    summary.write_text(f"{name}: {rate:.0f} req/s while profiled\n" + summarise(collapsed))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    print(asyncio.run(run(args.scenario, args.seconds)).read_text())


if __name__ == "__main__":
    main()
