"""Issue [2/8] benchmark: sign-in throughput, and whether a burst of sign-ins slows
everyone else down (argon2id must stay off the event loop).

Scenario, alternated A B A B for ROUNDS rounds in one run against one service process:
  A (quiet): /health/ready probed at a fixed rate; nothing else.
  B (burst): the same probe while CONCURRENCY clients sign in back to back.
Reported: median (min-max) over rounds of the probe's p99, the ratio B/A (goal <= 1.3),
and sign-ins per second during B.

Run: .venv/bin/python -m bench.login_burst [--rounds 5] [--seconds 8]
"""

import argparse
import asyncio
import platform
import time
from datetime import UTC, datetime

import httpx

from bench.harness import fixed_rate, percentile, running_service, summary, write_result

PASSWORD = "benchmark password"


async def sign_in_loop(
    client: httpx.AsyncClient, emails: list[str], stop: asyncio.Event, done: list[float]
) -> None:
    index = 0
    while not stop.is_set():
        email = emails[index % len(emails)]
        index += 1
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        done.append(time.perf_counter())


async def run(*, rounds: int, seconds: float, rate: float, concurrency: int) -> dict[str, object]:
    with running_service() as service:
        limits = httpx.Limits(max_connections=concurrency + 64)
        async with httpx.AsyncClient(base_url=service.base_url, limits=limits, timeout=60) as http:
            emails = [f"bench-{n}@example.org" for n in range(concurrency * 4)]
            for email in emails:
                created = await http.post(
                    "/api/v1/auth/register",
                    json={"email": email, "password": PASSWORD, "name": "Bench"},
                )
                created.raise_for_status()
            quiet: list[float] = []
            burst: list[float] = []
            throughput: list[float] = []
            for _ in range(rounds):
                quiet.append(
                    percentile(
                        await fixed_rate(http, "/health/ready", rate=rate, seconds=seconds), 99
                    )
                )
                stop = asyncio.Event()
                done: list[float] = []
                loops = [
                    asyncio.create_task(sign_in_loop(http, emails[i::concurrency], stop, done))
                    for i in range(concurrency)
                ]
                await asyncio.sleep(0.5)  # let the burst reach steady state
                started, count_before = time.perf_counter(), len(done)
                latencies = await fixed_rate(http, "/health/ready", rate=rate, seconds=seconds)
                elapsed = time.perf_counter() - started
                throughput.append((len(done) - count_before) / elapsed)
                stop.set()
                await asyncio.gather(*loops)
                burst.append(percentile(latencies, 99))
    quiet_s, burst_s = summary(quiet), summary(burst)
    return {
        "benchmark": "login_burst",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "rounds": rounds,
        "seconds_per_round": seconds,
        "probe_rate_per_second": rate,
        "concurrency": concurrency,
        "health_ready_p99_ms": {
            "quiet": quiet_s,
            "burst": burst_s,
            "per_round_quiet": quiet,
            "per_round_burst": burst,
        },
        "ratio_burst_over_quiet_p99": burst_s["median"] / quiet_s["median"],
        "logins_per_second": summary(throughput),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    result = asyncio.run(
        run(rounds=args.rounds, seconds=args.seconds, rate=args.rate, concurrency=args.concurrency)
    )
    write_result("login_burst", result)


if __name__ == "__main__":
    main()
