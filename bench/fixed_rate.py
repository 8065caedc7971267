"""Open-loop fixed-rate latency with a generator cheap enough to hold 300 to 700 req/s on
one core ([8/8]): pre-encoded HTTP/1.1 requests written on raw asyncio connections
(uvloop) and responses parsed by httptools (llhttp, the C parser uvicorn uses; both come
with ``uvicorn[standard]``), instead of httpx, whose per-request Python cost made the old
generator fall behind at 331 req/s.

Request *n* is due at ``start + n / rate`` and is written then on an idle keep-alive
connection (a new one is opened when none is idle, up to ``MAX_CONNECTIONS``), whatever
earlier requests are doing; its latency counts from that due time, so a stalled server
is charged for every request it delayed (no coordinated omission).

Each run is its own process (``python -m bench.fixed_rate``), pinned by ``taskset`` to
the core wrk uses (bench/wrk.py), away from the servers. It reports the CPU it used while
generating, the rate it achieved against the rate scheduled, and how late it dispatched
requests; a run that fell behind is marked invalid (``invalid`` says why), and its
latencies are not a figure of the server.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import uvloop

from bench import wrk

MAX_CONNECTIONS = 512
# connections opened before the clock starts: the first requests do not pay for connect
PRECONNECT = 16
# the generator held the rate: it sent at >= this share of the scheduled rate ...
MIN_ACHIEVED_SHARE = 0.97
# ... and dispatched 99 % of requests within this many ms of their due time, or within
# this share of the round's p99 where that is more: a late dispatch is counted in the
# latency, so it must stay small beside the figure it would distort
MAX_DISPATCH_LAG_P99_MS = 5.0
MAX_DISPATCH_LAG_SHARE_OF_P99 = 0.1
# in-flight requests still unanswered this long after the last one was due are
# charged up to then (their latency is at least that) and counted as unfinished
DRAIN_SECONDS = 15.0


@dataclass(frozen=True)
class FixedRateResult:
    scheduled_rate: float
    achieved_rate: float
    sent: int
    latencies_ms: list[float]
    errors: int  # connections lost with a request in flight
    non2xx: int
    unfinished: int
    dispatch_lag_p99_ms: float
    dispatch_lag_max_ms: float
    connections: int
    generator_cpu_seconds: float
    seconds: float
    invalid: str | None  # why this run is not a measurement of the server, or None

    @property
    def generator_cpu_share(self) -> float:
        return self.generator_cpu_seconds / self.seconds


def _encode(method: str, host: str, path: str, headers: dict[str, str], body: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    payload = body.encode()
    if payload or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, generator: "_Generator") -> None:
        self.generator = generator
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.due: float | None = None  # the in-flight request's due time

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.generator.next_for(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_complete(self) -> None:
        due, self.due = self.due, None
        assert due is not None
        self.generator.answered(self, due, self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.generator.lost(self)


class _Generator:
    def __init__(self, host: str, port: int, requests: Sequence[bytes]) -> None:
        self.host, self.port, self.requests = host, port, requests
        self.idle: list[_Connection] = []
        self.busy: set[_Connection] = set()
        self.waiting: deque[tuple[int, float]] = deque()  # due, no idle connection yet
        self.opened = 0  # connections open or opening
        self.connections = 0  # connections ever opened
        self.in_flight = 0
        self.latencies: list[float] = []
        self.errors = self.non2xx = 0
        self.drained = asyncio.Event()

    def connect(self) -> None:
        self.opened += 1
        self.connections += 1
        loop = asyncio.get_running_loop()
        task = loop.create_task(
            loop.create_connection(lambda: _Connection(self), self.host, self.port)
        )
        task.add_done_callback(self._connect_failed)

    def _connect_failed(self, task: "asyncio.Task[Any]") -> None:
        if task.cancelled() or task.exception() is not None:
            self.opened -= 1
            self.errors += 1
            if self.waiting:  # the request stays due; charge it when a connection comes
                self.connect()

    def dispatch(self, n: int, due: float) -> None:
        self.in_flight += 1
        if self.idle:
            self._write(self.idle.pop(), n, due)
            return
        self.waiting.append((n, due))
        if self.opened < MAX_CONNECTIONS:
            self.connect()

    def _write(self, connection: _Connection, n: int, due: float) -> None:
        assert connection.transport is not None
        connection.due = due
        self.busy.add(connection)
        connection.transport.write(self.requests[n % len(self.requests)])

    def next_for(self, connection: _Connection) -> None:
        if self.waiting:
            self._write(connection, *self.waiting.popleft())
        else:
            self.idle.append(connection)

    def answered(self, connection: _Connection, due: float, status: int) -> None:
        self.in_flight -= 1
        self.busy.discard(connection)
        if 200 <= status < 300:
            self.latencies.append((time.perf_counter() - due) * 1000)
        else:
            self.non2xx += 1
        if connection.parser.should_keep_alive():
            self.next_for(connection)
        else:
            assert connection.transport is not None
            connection.transport.close()
        if self.in_flight == 0:
            self.drained.set()

    def lost(self, connection: _Connection) -> None:
        self.opened -= 1
        if connection in self.idle:
            self.idle.remove(connection)
        self.busy.discard(connection)
        if connection.due is not None:
            connection.due = None
            self.in_flight -= 1
            self.errors += 1
            if self.in_flight == 0:
                self.drained.set()
        if self.waiting and self.opened < MAX_CONNECTIONS:
            self.connect()


async def generate(
    url: str, requests: Sequence[bytes], *, rate: float, seconds: float
) -> FixedRateResult:
    """``requests`` in turn at ``rate`` for ``seconds`` against ``url`` (this process)."""
    address = urlsplit(url)
    assert address.hostname is not None
    assert address.port is not None
    generator = _Generator(address.hostname, address.port, requests)
    for _ in range(PRECONNECT):
        generator.connect()
    deadline = time.perf_counter() + 10
    while len(generator.idle) < PRECONNECT:
        if generator.errors or time.perf_counter() > deadline:
            raise RuntimeError(f"could not open {PRECONNECT} connections to {url}")
        await asyncio.sleep(0.01)
    count = max(1, round(rate * seconds))
    lags: list[float] = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    first = last = start
    n = 0
    while n < count:
        now = time.perf_counter()
        due = start + n / rate
        if due > now:
            await asyncio.sleep(due - now)
            continue
        if n == 0:
            first = now
        while n < count and due <= now:  # everything due by now, late ones included
            lags.append((now - due) * 1000)
            generator.dispatch(n, due)
            n += 1
            due = start + n / rate
        last = now
    if generator.in_flight:
        generator.drained.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(generator.drained.wait(), DRAIN_SECONDS)
    ended = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_SELF)
    unfinished = generator.in_flight
    # the unanswered are charged up to now: their latency is at least that
    late = [due for _, due in generator.waiting]
    late += [c.due for c in generator.busy if c.due is not None]
    latencies = generator.latencies + [(ended - due) * 1000 for due in late]
    achieved = (count - 1) / (last - first) if count > 1 and last > first else rate
    lag_p99, p99 = _p99(lags), _p99(latencies)
    lag_limit = max(MAX_DISPATCH_LAG_P99_MS, MAX_DISPATCH_LAG_SHARE_OF_P99 * p99)
    invalid = None
    if generator.errors or generator.non2xx:
        invalid = f"{generator.errors} dropped connections, {generator.non2xx} non-2xx answers"
    elif achieved < MIN_ACHIEVED_SHARE * rate:
        invalid = f"sent at {achieved:.0f} req/s of {rate:.0f} scheduled"
    elif lag_p99 > lag_limit:
        invalid = (
            f"dispatched 1 % of requests {lag_p99:.1f} ms late or more (limit "
            f"{lag_limit:.1f} ms: the larger of {MAX_DISPATCH_LAG_P99_MS:g} ms and "
            f"{MAX_DISPATCH_LAG_SHARE_OF_P99:.0%} of the round's p99)"
        )
    return FixedRateResult(
        scheduled_rate=rate,
        achieved_rate=achieved,
        sent=count,
        latencies_ms=latencies,
        errors=generator.errors,
        non2xx=generator.non2xx,
        unfinished=unfinished,
        dispatch_lag_p99_ms=lag_p99,
        dispatch_lag_max_ms=max(lags),
        connections=generator.connections,
        generator_cpu_seconds=(after.ru_utime - before.ru_utime)
        + (after.ru_stime - before.ru_stime),
        seconds=ended - start,
        invalid=invalid,
    )


def _p99(values: list[float]) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def run(
    url: str,
    requests: Sequence[tuple[str, dict[str, str]]],
    *,
    rate: float,
    seconds: float,
    method: str = "GET",
    bodies: Sequence[str] | None = None,
) -> FixedRateResult:
    """One fixed-rate run in its own process, pinned to the generator's core."""
    host = urlsplit(url).netloc
    sent = bodies or [""] * len(requests)
    encoded = [
        _encode(method, host, path, headers, body).decode("latin-1")
        for (path, headers), body in zip(requests, sent, strict=True)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.json"
        path.write_text(json.dumps(encoded))
        command = [sys.executable, "-m", "bench.fixed_rate", url, str(path)]
        command += ["--rate", repr(rate), "--seconds", repr(seconds)]
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            command = ["taskset", "-c", wrk.generator_cpu(), *command]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"fixed-rate generator failed: {done.stderr[-2000:]}")
    return FixedRateResult(**json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("requests", type=Path, help="JSON list of encoded requests")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    requests = [text.encode("latin-1") for text in json.loads(args.requests.read_text())]
    result = uvloop.run(generate(args.url, requests, rate=args.rate, seconds=args.seconds))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
