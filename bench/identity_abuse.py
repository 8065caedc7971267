"""Identity under attack ([1/8] items 7-9), against the real service in its own process
(one uvicorn worker, embedded PostgreSQL and MongoDB-wire servers, throwaway):

1. Revocation race: a thief rotates a stolen refresh token back to back while the owner
   signs out everywhere; after it, does the thief's newest token still refresh?
   Reported: trials, survivors (must be 0).
2. Sign-up flood from one address: 16 clients (in a process of their own) sign up back
   to back for 20 s, ignoring Retry-After. Reported: accounts created per minute, the answers, and other users'
   latency (an authenticated ``GET /users/me`` and a sign-in, from other addresses, at a
   fixed rate, open loop) during the flood against the same probe just before it.
3. 50 parallel failed sign-ins from one address, each on another email. Reported: how
   many were let through to a password check (401) against the limit (30).

Statuses are counted as answered; 0 is a connection the server dropped.

Scenarios 2 and 3 run twice: with the defaults (the defences on), and with the sign-up
throttle and the admission limits lifted (what the service did before they existed), so
the flood's effect is a ratio within this run. Client addresses are given by
``X-Forwarded-For``, which the service trusts from 127.0.0.1 (its default proxy).

Run: .venv/bin/python -m bench.identity_abuse [--quick]
"""

import argparse
import asyncio
import random
import resource
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import httpx

from bench.harness import (
    SERVICE,
    at_fixed_rate,
    percentile,
    server,
    service_env,
    write_result,
)
from syllabus.db import migrate
from syllabus.embedded import APP_ROLE, embedded_stores

PASSWORD = "benchmark password"
ADDRESS_LIMIT = 30  # SYLLABUS_SIGNIN_MAX_PER_ADDRESS, by default (in 15 minutes)
LIFTED = {
    "SYLLABUS_SIGNUP_MAX_PER_ADDRESS": "1000000",
    "SYLLABUS_SIGNUP_MAX_PER_EMAIL": "1000000",
    "SYLLABUS_PASSWORD_WORK_MAX_PENDING": "1000",
    "SYLLABUS_PASSWORD_WORK_MAX_PER_ADDRESS": "1000",
}


async def status_of(request: Awaitable[httpx.Response]) -> int:
    """The answer's status, or 0 when the connection failed (the server dropped it)."""
    try:
        return (await request).status_code
    except httpx.TransportError:
        return 0


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.org"


async def sign_up(http: httpx.AsyncClient, address: str) -> tuple[str, str]:
    """A new account from ``address``; its email and access token."""
    email = unique_email("user")
    created = await http.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Bench"},
        headers=at(address),
    )
    created.raise_for_status()
    tokens = await http.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=at(address)
    )
    tokens.raise_for_status()
    return email, str(tokens.json()["access_token"])


async def revocation_race(http: httpx.AsyncClient, *, trials: int) -> dict[str, Any]:
    owner_address, thief_address = "198.51.100.1", "203.0.113.200"
    email, access = await sign_up(http, owner_address)
    survivors, rotations = 0, 0
    for _ in range(trials):
        stolen = await http.post(
            "/api/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            headers=at(owner_address),
        )
        stolen.raise_for_status()
        token = str(stolen.json()["refresh_token"])
        rotating, stop = asyncio.Event(), asyncio.Event()

        async def thief(token: str, rotating: asyncio.Event, stop: asyncio.Event) -> str:
            nonlocal rotations
            while not stop.is_set():
                response = await http.post(
                    "/api/v1/auth/refresh",
                    json={"refresh_token": token},
                    headers=at(thief_address),
                )
                if response.status_code != 200:
                    break
                token = response.json()["refresh_token"]
                rotations += 1
                rotating.set()
            return token

        task = asyncio.create_task(thief(token, rotating, stop))
        await rotating.wait()
        await asyncio.sleep(random.uniform(0, 0.02))
        revoked = await http.post(
            "/api/v1/auth/logout-all",
            headers={"Authorization": f"Bearer {access}", **at(owner_address)},
        )
        revoked.raise_for_status()
        stop.set()
        last = await task
        again = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": last}, headers=at(thief_address)
        )
        survivors += again.status_code == 200
    return {"trials": trials, "survivors": survivors, "thief_rotations": rotations}


async def _probe(
    http: httpx.AsyncClient, users: list[tuple[str, str, str]], *, rate: float, seconds: float
) -> dict[str, Any]:
    """Other users at a fixed rate: every 4th call a sign-in, the rest ``GET /users/me``;
    latency (ms) of each kind and the statuses seen."""
    latency: dict[str, list[float]] = {"me": [], "sign_in": []}
    statuses: Counter[str] = Counter()

    async def one(n: int) -> bool:
        # Sign-ins go round every user in turn (one address never has two at once).
        email, access, address = users[(n // 4 if n % 4 == 3 else n) % len(users)]
        started = time.perf_counter()
        if n % 4 == 3:
            kind = "sign_in"
            status = await status_of(
                http.post(
                    "/api/v1/auth/login",
                    json={"email": email, "password": PASSWORD},
                    headers=at(address),
                )
            )
        else:
            kind = "me"
            status = await status_of(
                http.get(
                    "/api/v1/users/me",
                    headers={"Authorization": f"Bearer {access}", **at(address)},
                )
            )
        statuses[f"{kind} {status}"] += 1
        latency[kind].append((time.perf_counter() - started) * 1000)
        return True

    await at_fixed_rate(one, count=int(rate * seconds), rate=rate)
    return {
        "statuses": dict(statuses),
        **{
            f"{kind}_ms": {
                name: round(percentile(values, q), 1)
                for name, q in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0))
            }
            for kind, values in latency.items()
            if values
        },
    }


async def _flood(url: str, *, clients: int, seconds: float, address: str) -> dict[int, int]:
    answers: Counter[int] = Counter()
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:

        async def flooder() -> None:
            while time.perf_counter() < stop:
                status = await status_of(
                    http.post(
                        "/api/v1/auth/register",
                        json={"email": unique_email("farm"), "password": PASSWORD, "name": "F"},
                        headers=at(address),
                    )
                )
                answers[status] += 1  # an attacker ignores Retry-After

        await asyncio.gather(*(flooder() for _ in range(clients)))
    return dict(answers)


def flood_process(url: str, clients: int, seconds: float, address: str) -> dict[str, Any]:
    """The flood in a process of its own, so the probe's event loop does not share a
    thread with it (its latency would count the generator's own work); and its CPU."""
    answers = asyncio.run(_flood(url, clients=clients, seconds=seconds, address=address))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"answers": answers, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}


async def signup_flood(
    http: httpx.AsyncClient,
    *,
    clients: int,
    seconds: float,
    rate: float,
    flood_address: str,
    others: list[tuple[str, str, str]],
) -> dict[str, Any]:
    quiet = await _probe(http, others, rate=rate, seconds=seconds)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as pool:
        flood = asyncio.get_running_loop().run_in_executor(
            pool, flood_process, str(http.base_url), clients, seconds, flood_address
        )
        probe_cpu = time.process_time()
        during = await _probe(http, others, rate=rate, seconds=seconds)
        probe_cpu = time.process_time() - probe_cpu
        flooded = await flood
    elapsed = time.perf_counter() - started
    answers: dict[int, int] = flooded["answers"]
    created = answers.get(201, 0)
    return {
        "flood_clients": clients,
        "flood_seconds": round(elapsed, 1),
        "flood_answers": {str(code): count for code, count in sorted(answers.items())},
        "accounts_created": created,
        "accounts_per_minute": round(created / elapsed * 60, 1),
        "generator_cpu_seconds": {"flood": flooded["cpu_seconds"], "probe": round(probe_cpu, 1)},
        "others_before": quiet,
        "others_during": during,
        "me_p50_ratio": round(during["me_ms"]["p50"] / quiet["me_ms"]["p50"], 2),
    }


async def parallel_failures(http: httpx.AsyncClient, *, address: str) -> dict[str, Any]:
    responses = await asyncio.gather(
        *(
            http.post(
                "/api/v1/auth/login",
                json={"email": unique_email("spray"), "password": "a wrong guess"},
                headers=at(address),
            )
            for _ in range(50)
        )
    )
    statuses = Counter(response.status_code for response in responses)
    codes = Counter(
        response.json().get("code") for response in responses if response.status_code != 401
    )
    return {
        "parallel": 50,
        "limit": ADDRESS_LIMIT,
        "let_through_401": statuses[401],
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "refusal_codes": dict(codes),
    }


async def against(url: str, *, config: str, quick: bool, race_trials: int | None) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
        others = [(*await sign_up(http, f"192.0.2.{n}"), f"192.0.2.{n}") for n in range(1, 9)]
        result: dict[str, Any] = {}
        if race_trials:
            result["revocation_race"] = await revocation_race(http, trials=race_trials)
        result["signup_flood"] = await signup_flood(
            http,
            clients=4 if quick else 16,
            seconds=4 if quick else 20,
            rate=10,
            flood_address=f"203.0.113.{1 if config == 'defaults' else 2}",
            others=others,
        )
        result["parallel_failures"] = await parallel_failures(
            http, address=f"203.0.113.{11 if config == 'defaults' else 12}"
        )
        return result


async def run(*, quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"quick": quick}
    with embedded_stores(data_dir=None, need_postgres=True, need_mongo=True) as (pg, mongo):
        assert pg is not None
        assert mongo is not None
        await asyncio.to_thread(migrate.upgrade, url=pg.owner, app_role=APP_ROLE)
        env = service_env(pg.app, mongo)
        for config, overrides in (("defaults", {}), ("lifted", LIFTED)):
            print(f"service with {config} limits ...", flush=True)
            with server(SERVICE, {**env, **overrides}, ready_path="/health/live") as service:
                results[config] = await against(
                    service.url,
                    config=config,
                    quick=quick,
                    race_trials=(20 if quick else 100) if config == "defaults" else None,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, fewer trials")
    args = parser.parse_args()
    write_result("identity_abuse", asyncio.run(run(quick=args.quick)))


if __name__ == "__main__":
    main()
