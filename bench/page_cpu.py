"""CPU per request of the bare page, the patient dashboard and "My appointments", in process.

run_all.py measures requests/s with wrk against gunicorn: the figure that counts, but it needs a
quiet machine. This measures what decides it, the server's CPU per request, in one process
that serves the three pages in turn through Django's WSGI handler (as gunicorn calls it), with
the benchmark's settings (DEBUG=0, the bench's data, sessions in Redis when it answers), and
prints the pages' costs as ratios of the bare page's, measured in the same rounds. A page at
50 % of the bare page's requests/s costs at most twice its CPU.

    .venv/bin/python bench/page_cpu.py [--requests 300] [--rounds 5] [--profile dashboard]

The first run creates and seeds its own database (BENCH_PG/hms_page_cpu, or PAGE_CPU_DB); later
runs reuse it (--reseed starts again). Never point it at a database you care about.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package from this checkout

from bench.databases import PG, recreate_postgres  # noqa: E402
from bench.serving import bench_settings, start_django  # noqa: E402

DB = os.environ.get("PAGE_CPU_DB", "hms_page_cpu")
REDIS = os.environ.get("PAGE_CPU_REDIS", "redis://127.0.0.1:6379/14")
VAR_DIR = Path(os.environ.get("PAGE_CPU_VAR", ROOT / "var" / "page-cpu"))
PAGES = {"bare": "/bench/bare/", "dashboard": "/dashboard/", "my_appointments": "/scheduling/my/"}


def _settings() -> dict[str, str]:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret-key"  # kept: the stored sessions are signed with it
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return bench_settings(
        f"{PG}/{DB}", VAR_DIR=str(VAR_DIR), SECRET_KEY=key_file.read_text(), REDIS_URL=REDIS
    )


def _seed(seeded_file: Path) -> None:
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
    from bench.bench_data import seed

    seed(seeded_file, pool_size=10, storm_requests=10)


def _environ(path: str, cookie: str) -> dict:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1", "HTTP_COOKIE": cookie, "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "page_cpu", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip


def _get(handler, path: str, cookie: str) -> bytes:
    statuses = []
    response = handler(_environ(path, cookie), lambda status, headers: statuses.append(status))
    body = b"".join(response)
    response.close()  # as the server does: request_finished, connections kept or closed
    if not statuses[0].startswith("200"):
        raise SystemExit(f"GET {path} answered {statuses[0]}: not a signed-in page?")
    return body


def _cpu_ms(handler, path: str, cookie: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        _get(handler, path, cookie)
    return (time.process_time() - started) * 1000 / requests


def _calls(handler, path: str, cookie: str, requests: int = 50) -> float:
    """Python function calls per request: a count that a busy machine does not move, beside
    the CPU time that it does."""
    profiler = cProfile.Profile()
    profiler.runcall(_cpu_ms, handler, path, cookie, requests)
    return pstats.Stats(profiler).total_calls / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per page per round")
    parser.add_argument("--rounds", type=int, default=5, help="the best round of each counts")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--profile", choices=PAGES, help="profile this page instead")
    args = parser.parse_args()
    settings = _settings()
    seeded_file = VAR_DIR / "seeded.json"
    fresh = args.reseed or not seeded_file.exists()
    if fresh:
        recreate_postgres(DB)
    start_django(settings, migrate=fresh)
    if fresh:
        _seed(seeded_file)
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    cookie = json.loads(seeded_file.read_text())["patient_cookie"]
    for path in PAGES.values():  # warm up: templates loaded, links remembered, caches filled
        for _ in range(20):
            _get(handler, path, cookie)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
        profiler.runcall(_cpu_ms, handler, PAGES[args.profile], cookie, args.requests)
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        return
    best = {name: float("inf") for name in PAGES}
    for _ in range(args.rounds):  # interleaved, so that a busy moment hits every page alike
        for name, path in PAGES.items():
            best[name] = min(best[name], _cpu_ms(handler, path, cookie, args.requests))
    calls = {name: _calls(handler, path, cookie) for name, path in PAGES.items()}
    bare = best["bare"]
    print(f"CPU per request (best of {args.rounds} rounds of {args.requests}), Redis {REDIS}:")
    for name, ms in best.items():
        print(
            f"  {name:16} {ms:6.2f} ms  {ms / bare:5.2f} x bare  (=> {bare / ms:6.1%} of its "
            f"req/s); {calls[name]:6.0f} Python calls, {calls[name] / calls['bare']:5.2f} x bare"
        )


if __name__ == "__main__":
    main()
