"""Two versions of the service in ONE run: the progress PUT of a checkout without a change
(``before``), of one with it (``after``), and the bare app's raw upsert, three uvicorn
workers alive at once on one quick dataset, pinned like ``progress_peak``, wrk rounds
interleaved (the order rotating). On a shared machine, separate runs of
``python -m bench --quick --only progress_peak`` swing more between runs than a change
moves the ratio; adjacent rounds of one run see the same load.

Run (each directory holds ``src/`` of one version, e.g. from ``git archive REV src``):
    .venv/bin/python -m bench.ab /tmp/before /tmp/after [--rounds 6] [--seconds 4]
"""

import argparse
import asyncio
import json
import os
import statistics
from pathlib import Path
from typing import Any

from bench import dataset, wrk
from bench.harness import BASELINE, SERVICE, server, service_env
from bench.identity_abuse import LIFTED
from bench.progress import BODY, progress_requests
from syllabus.db import migrate
from syllabus.embedded import APP_ROLE, embedded_stores

SIDES = ("before", "after", "upsert")


async def run(before: Path, after: Path, *, rounds: int, seconds: float) -> dict[str, Any]:
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert pg.superuser is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg.owner, app_role=APP_ROLE)
        data = await dataset.build(pg.superuser, mongo, dataset.QUICK)
        env = {**service_env(pg.app, mongo), **LIFTED}
        live = "/health/live"
        with (
            server(SERVICE, {**env, "PYTHONPATH": str(before / "src")}, ready_path=live) as a,
            server(SERVICE, {**env, "PYTHONPATH": str(after / "src")}, ready_path=live) as b,
            server(BASELINE, env, ready_path="/live") as upsert,
        ):
            for worker in (a, b, upsert):
                wrk.pin(worker.pid, wrk.server_cpus())
            service_requests, baseline_requests = progress_requests(data)
            targets = {
                "before": (a.url, service_requests),
                "after": (b.url, service_requests),
                "upsert": (upsert.url, baseline_requests),
            }

            def put(side: str, duration: float) -> wrk.WrkResult:
                url, requests = targets[side]
                sent = [(path, {**h, "Content-Type": "application/json"}) for path, h in requests]
                bodies = [BODY.decode()] * len(sent)
                return wrk.run(
                    url, sent, seconds=duration, connections=16, method="PUT", bodies=bodies
                )

            for side in SIDES:
                put(side, 2)  # warm every worker and pool
            runs: dict[str, list[wrk.WrkResult]] = {side: [] for side in SIDES}
            for round_no in range(rounds):
                order = SIDES[round_no % 3 :] + SIDES[: round_no % 3]
                for side in order:
                    runs[side].append(put(side, seconds))
                load = os.getloadavg()[0]
                print(
                    f"round {round_no} (load {load:.1f}): "
                    + ", ".join(f"{s} {runs[s][-1].requests_per_second:.0f}" for s in order),
                    flush=True,
                )
    result: dict[str, Any] = {
        side: {
            "median_rps": statistics.median(r.requests_per_second for r in measured),
            "rps": [round(r.requests_per_second, 1) for r in measured],
            "p99_ms_closed_loop": statistics.median(r.p99_ms for r in measured),
            "errors": sum(r.errors + r.non2xx for r in measured),
            "generator_cpu_share": statistics.median(
                r.generator_cpu_seconds / r.seconds for r in measured
            ),
        }
        for side, measured in runs.items()
    }
    for side in ("before", "after"):
        result[f"ratio_{side}"] = result[side]["median_rps"] / result["upsert"]["median_rps"]
        result[f"round_ratios_{side}"] = [
            round(x.requests_per_second / u.requests_per_second, 3)
            for x, u in zip(runs[side], runs["upsert"], strict=True)
        ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()
    result = asyncio.run(run(args.before, args.after, rounds=args.rounds, seconds=args.seconds))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
