"""Peak throughput measured by wrk, a C load generator, so the generator does not share
the Python bottleneck it measures ([8/8]). The Python harness (bench/harness.py) stays
for fixed-rate latency, where its own CPU use is low.

wrk is a Debian package (`apt-get install wrk`); ``make bench`` installs it when missing
and it can. Where ``taskset`` exists, wrk is pinned to the last CPU and the server under
test to the others, and the CPU time wrk used is reported beside each figure.
"""

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LUA = """
local requests = {}
local n = 0
local method = os.getenv("WRK_METHOD")
local data = io.open(os.getenv("WRK_REQUESTS")):read("*a")
for line in data:gmatch("[^\\n]+") do
  local fields = {}
  for field in (line .. "\\t"):gmatch("([^\\t]*)\\t") do
    fields[#fields + 1] = field
  end
  local headers = {}
  for k = 3, #fields do
    local name, value = fields[k]:match("^([^:]+):%s?(.*)$")
    if name then headers[name] = value end
  end
  local body = nil
  if fields[2] ~= "" then body = fields[2] end
  n = n + 1
  requests[n] = wrk.format(method, fields[1], headers, body)
end
local i = 0
request = function()
  i = i % n + 1
  return requests[i]
end
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON{\\"requests\\": %d, \\"seconds\\": %f, \\"errors\\": %d, \\"p50_ms\\": %f, \\"p99_ms\\": %f, \\"non2xx\\": %d}\\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    non2xx: int
    generator_cpu_seconds: float
    seconds: float


def available() -> bool:
    return shutil.which("wrk") is not None


def pin(pid: int, cpus: str) -> None:
    """Pin a process (and its threads) to ``cpus`` where taskset exists."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        subprocess.run(
            ["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True, check=False
        )


def server_cpus() -> str:
    count = os.cpu_count() or 1
    return "0" if count <= 2 else f"0-{count - 2}"


def generator_cpu() -> str:
    return str((os.cpu_count() or 1) - 1)


def run(
    url: str,
    requests: Sequence[tuple[str, dict[str, str]]],
    *,
    seconds: float,
    connections: int = 16,
    threads: int = 1,
    method: str = "GET",
    bodies: Sequence[str] | None = None,
) -> WrkResult:
    """wrk against ``url`` cycling through ``requests`` (path, headers), each sent with
    ``method`` and, for writes, its body (one line of JSON per request)."""
    with tempfile.TemporaryDirectory() as folder:
        script, lines = Path(folder) / "requests.lua", Path(folder) / "requests.txt"
        script.write_text(LUA)
        sent = bodies or [""] * len(requests)
        host = {"Host": urlsplit(url).netloc}
        lines.write_text(
            "\n".join(
                "\t".join(
                    [path, body, *(f"{name}: {value}" for name, value in (host | headers).items())]
                )
                for (path, headers), body in zip(requests, sent, strict=True)
            )
        )
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            url,
        ]
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            command = ["taskset", "-c", generator_cpu(), *command]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "WRK_REQUESTS": str(lines), "WRK_METHOD": method},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout} {done.stderr}")
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"^JSON(\{.*\})$", done.stdout, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout}\n{done.stderr}")
    summary = json.loads(found.group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkResult(
        requests_per_second=summary["requests"] / summary["seconds"],
        p50_ms=summary["p50_ms"],
        p99_ms=summary["p99_ms"],
        errors=summary["errors"],
        non2xx=summary["non2xx"],
        generator_cpu_seconds=cpu,
        seconds=wall,
    )
