"""The benchmarks' load generator: wrk (Debian/Ubuntu: `apt-get install wrk`), a process of its
own that stays out of the server's way, with the CPU it took reported beside the figures."""

import os
import shutil
import subprocess
import tempfile
import time

from bench.serving import busy_share, cpu_seconds_of, machine_busy

WRK = shutil.which("wrk")

# wrk calls done() once at the end: the figures on one line, latencies in microseconds.
_FIGURES = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("bench-figures %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""
# Each request a path drawn at random from the list, each wrk thread with a seed of its own.
_RANDOM_PATH = """
local paths = {}
for line in ([==[
%s
]==]):gmatch("[^\\n]+") do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args) math.randomseed(seed) end
function request() return wrk.format(nil, paths[math.random(#paths)]) end
"""


def lua_script(paths: list[str]) -> str:
    """wrk's script: the figures at the end and, for more than one path, a random one each time."""
    if len(paths) == 1:
        return _FIGURES
    listed = "\n".join(paths)
    if "]==]" in listed or any(not p.startswith("/") or len(p.split()) != 1 for p in paths):
        raise ValueError("paths must be plain URL paths, one a line")
    return _RANDOM_PATH % listed + _FIGURES


def wrk(server, paths: list[str], headers: dict, seconds: int, connections: int) -> dict:
    """GET `paths` (one drawn at random for each request) for `seconds` from 2 wrk threads on
    `connections` keep-alive connections: requests/s, p50/p95 latency, errors, and the CPU that
    the server (ms per request) and wrk itself (cores) took. `server` has .port, .get(path,
    headers) and .pids() (bench.serving.Server)."""
    if WRK is None:
        raise SystemExit("wrk is needed: `sudo apt-get install wrk` (Debian/Ubuntu)")
    status, body = server.get(paths[0], headers)
    if status != 200:
        raise SystemExit(f"GET {paths[0]} answered {status} before the run: {body[:300]!r}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(lua_script(paths))
        script.flush()
        server_pids = server.pids()
        server_cpu, busy = cpu_seconds_of(server_pids), machine_busy()
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 (wrk, fixed arguments)
            [
                WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                "-s", script.name,
                *(f"-H{name}: {value}" for name, value in headers.items()),
                f"http://127.0.0.1:{server.port}{paths[0]}",
            ],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        out = process.stdout.read()
        _, code, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    figures = next((line.split()[1:] for line in out.splitlines() if line.startswith("bench-")), [])
    if code or len(figures) != 9:
        raise SystemExit(f"wrk failed (wait status {code}):\n{out}")
    requests, duration, connect, read, write, status, timeouts, p50, p95 = map(int, figures)
    wrk_cpu = usage.ru_utime + usage.ru_stime
    return {
        "requests": requests,
        "rps": requests / (duration / 1e6),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "errors": connect + read + write + status,  # refused or broken, or not 2xx/3xx
        "timeouts": timeouts,  # no answer within 10 s
        "server_ms": (cpu_seconds_of(server_pids) - server_cpu) * 1000 / max(requests, 1),
        "generator_cpu": wrk_cpu / elapsed,  # cores
        "generator_ms": wrk_cpu * 1000 / max(requests, 1),
        "busy": busy_share(busy, machine_busy()),
    }
