"""FHIR server benchmark (not part of the test suite; prints figures).

1. A PostgreSQL database of its own (hms_bench_fhir) with --patients synthetic patients
   (default 100,000; loaded with COPY, name and phone search keys included).
2. gunicorn serving the application (DEBUG=0), loaded by wrk (a process of its own, 2 threads,
   --clients keep-alive connections) for --seconds each:
   - Patient read: GET /fhir/R4/Patient/<random id> (bearer token; audited like any read);
   - Patient search: GET /fhir/R4/Patient?family=<random family prefix>&_count=10 (bundles of
     up to 10; each patient shown is audited).
   A random id or prefix each request (wrk's Lua `request`). Throughput (requests/s), p50 / p95
   latency, answers that were not 2xx, and the CPU per request of the server and of wrk are
   printed. The bare signed-in page (bench/bare.py) is measured the same way, as the reference.
3. Import speed: `manage.py import_fhir` of the Synthea sample into the same database.

--in-process instead measures CPU per request inside this process (Django's test client, no
server, no import), next to the bare page in the same run, so the figures hold on a busy
machine: a read and a search of patients served for the first time (built, validated and
serialised by fhir.resources) and again (their cached JSON).

Usage: .venv/bin/python bench/fhir_bench.py [--patients 100000] [--clients 16] [--seconds 10]
       [--workers 4] [--reuse] [--in-process]
PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432); traffic only to 127.0.0.1.
Needs wrk (Debian/Ubuntu: `sudo apt-get install wrk`) unless --in-process.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package from this checkout

from bench.databases import PG, recreate_postgres  # noqa: E402
from bench.load import wrk  # noqa: E402
from bench.patient_search import seed  # noqa: E402
from bench.serving import Server, bench_settings, start_django  # noqa: E402

DB_NAME = os.environ.get("BENCH_FHIR_DB", "hms_bench_fhir")
SAMPLE = ROOT.parent / "shared" / "data" / "synthea-10"
SERVER_ENV = bench_settings(f"{PG}/{DB_NAME}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (x 4 threads)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it is there")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--in-process", action="store_true", help="CPU per request, no server")
    return parser.parse_args()


def session_cookie(user) -> dict:
    """The headers of a signed-in browser (for the bare page)."""
    from django.conf import settings
    from django.test import Client

    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"Cookie": f"{name}={browser.cookies[name].value}"}


def in_process(user, token: str, ids: list[str], families: list[str], rng) -> None:
    """CPU per request (time.process_time) of each kind, in interleaved rounds; the fastest round
    counts (the one least disturbed by other work on the machine)."""
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(user)
    prefixes = list(dict.fromkeys(quote(family[:6]) for family in families))
    seen_ids, seen_prefixes = ids[:50], prefixes[:20]
    unseen_ids, unseen_prefixes = iter(rng.sample(ids[50:], len(ids) - 50)), iter(prefixes[20:])
    search = "/fhir/R4/Patient?_count=10&family="

    def get(client, url):
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]

    kinds = {
        "bare signed-in page": lambda: get(page, "/bench/bare/"),
        "Patient read, first time": lambda: get(api, f"/fhir/R4/Patient/{next(unseen_ids)}"),
        "Patient read, again": lambda: get(api, f"/fhir/R4/Patient/{rng.choice(seen_ids)}"),
        "Patient search, first time": lambda: get(api, search + next(unseen_prefixes)),
        "Patient search, again": lambda: get(api, search + rng.choice(seen_prefixes)),
    }
    for pk in seen_ids:
        get(api, f"/fhir/R4/Patient/{pk}")
    for prefix in seen_prefixes:
        get(api, search + prefix)
    best = dict.fromkeys(kinds, float("inf"))
    per_round = min(60, (len(prefixes) - 20) // 8)  # each first-time search a new prefix
    for _ in range(8):
        for name, request in kinds.items():
            began = time.process_time()
            for _ in range(per_round):
                request()
            best[name] = min(best[name], (time.process_time() - began) / per_round * 1000)
    bare = best["bare signed-in page"]
    print(f"In process, CPU per request (best of 8 rounds of {per_round}; {len(ids):,} "
          f"patients; load average {os.getloadavg()[0]:.1f}):")  # fmt: skip
    for name, ms in best.items():
        print(f"  {name:28} {ms:6.2f} ms   {ms / bare:5.2f} x the bare page")


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    fresh = not args.reuse
    if fresh:
        recreate_postgres(DB_NAME)
    start_django(SERVER_ENV, migrate=fresh)  # bench.settings: the application and the bare page
    from hms.accounts.services import api_token_issue
    from hms.accounts.tests.factories import UserFactory
    from hms.core.permissions import Role
    from hms.patients.models import Patient

    if fresh or not Patient.objects.exists():
        families = seed(args.patients, rng)
    else:
        families = sorted(set(Patient.objects.values_list("family_name", flat=True)[:20000]))
    ids = [str(pk) for pk in Patient.objects.values_list("pk", flat=True)[:50000]]
    user = UserFactory(role=Role.RECEPTIONIST, email=f"fhir-bench-{uuid.uuid4().hex[:8]}@bench.hms")
    token, _ = api_token_issue(user=user)
    if args.in_process:
        in_process(user, token, ids, rng.sample(families, len(families)), rng)
        return
    api = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    server = Server({**os.environ, **SERVER_ENV}, args.workers, threads=4)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; gunicorn "
          f"{args.workers} workers x 4 threads; wrk 2 threads x {args.clients} connections, "
          f"{args.seconds} s each; {Patient.objects.count():,} patients ({when})")  # fmt: skip
    search = "/fhir/R4/Patient?_count=10&family="
    loads = {
        "bare signed-in page": (["/bench/bare/"], session_cookie(user)),
        "Patient read": ([f"/fhir/R4/Patient/{pk}" for pk in ids], api),
        "Patient search (family)": ([search + quote(family[:6]) for family in families], api),
    }
    try:
        results = {
            name: wrk(server, paths, headers, args.seconds, args.clients)
            for name, (paths, headers) in loads.items()
        }
    finally:
        server.stop()
    for name, r in results.items():
        print(f"{name:26} {r['rps']:8,.0f} req/s   p50 {r['p50_ms']:6.1f} ms   p95 "
              f"{r['p95_ms']:6.1f} ms   ({r['requests']:,} requests, {r['errors']} failed or "
              f"not 2xx/3xx, {r['timeouts']} timed out)")  # fmt: skip
        print(f"{'':26} CPU per request: server {r['server_ms']:5.2f} ms, wrk "
              f"{r['generator_ms']:5.3f} ms (wrk {r['generator_cpu']:.2f} cores); "
              f"machine {r['busy']:.0%} busy")  # fmt: skip
    if SAMPLE.is_dir():
        env = {**os.environ, **SERVER_ENV, "DEBUG": "1"}
        out = subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "import_fhir", "--quiet", str(SAMPLE)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        match = re.search(r"(\d+) resources in ([\d.]+) s \(([\d,]+) resources/s\)", out)
        repeat = " (already imported: a repeat run)" if "Imported:\n  nothing" in out else ""
        label = "FHIR import (Synthea-10)"
        print(
            f"{label:26} {match.group(3):>8} resources/s "
            f"({match.group(1)} resources in {match.group(2)} s, PostgreSQL){repeat}"
        )


if __name__ == "__main__":
    main()
