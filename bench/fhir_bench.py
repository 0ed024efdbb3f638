"""FHIR server benchmark (not part of the test suite; prints figures).

1. A PostgreSQL database of its own (hms_bench_fhir) with --patients synthetic patients
   (default 100,000; loaded with COPY, name and phone search keys included).
2. gunicorn serving the application (DEBUG=0), --clients concurrent clients (threads with
   keep-alive connections) for --seconds each:
   - Patient read: GET /fhir/R4/Patient/<random id> (bearer token; audited like any read);
   - Patient search: GET /fhir/R4/Patient?family=<random family name>&_count=10, and
     ?name=<given> <family> (bundles of up to 10; each patient shown is audited).
   Throughput (requests/s) and p50 / p95 latency are printed.
   The bare signed-in page (bench/bare.py) is measured the same way, as the reference.
3. Import speed: `manage.py import_fhir` of the Synthea sample into the same database.

--in-process instead measures CPU per request inside this process (Django's test client, no
server, no import), next to the bare page in the same run, so the figures hold on a busy
machine: a read and a search of patients served for the first time (built, validated and
serialised by fhir.resources) and again (their cached JSON).

Usage: .venv/bin/python bench/fhir_bench.py [--patients 100000] [--clients 16] [--seconds 10]
       [--workers 4] [--reuse] [--in-process]
PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432); traffic only to 127.0.0.1.
"""

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_FHIR_DB", "hms_bench_fhir")
SAMPLE = ROOT.parent / "shared" / "data" / "synthea-10"
SERVER_ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "AXES_ENABLED": "0",
    "LOG_LEVEL": "ERROR",
    "TASKS_BACKEND": "dummy",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (x 4 threads)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it is there")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--in-process", action="store_true", help="CPU per request, no server")
    return parser.parse_args()


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    env = {**os.environ, **SERVER_ENV}
    subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def setup_django() -> None:
    os.environ.update(SERVER_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # the application and the bare page
    import django

    django.setup()


def seed(n: int, rng: random.Random) -> list[str]:
    """n patients by COPY, with their name and phone search keys; returns family names used."""
    from django.db import connection, transaction

    from bench.patient_search import patient_rows
    from hms.patients.models import (
        MrnSerial,
        Patient,
        PatientNameToken,
        PatientNameWord,
        PatientPhoneToken,
    )
    from hms.patients.normalize import phone_tokens
    from hms.patients.services import name_words_of

    fields = list(Patient._meta.concrete_fields)
    defaults = {
        f.attname: None if (f.null or f.column == "photo") else
        (f.get_default() if f.has_default() else "")
        for f in fields
    }  # fmt: skip
    columns = ", ".join(f.column for f in fields)
    words, families = set(), set()
    began = time.perf_counter()
    with transaction.atomic():
        raw = connection.cursor().cursor
        rows, tokens, phones = [], [], []

        def flush():
            with raw.copy(f"COPY {Patient._meta.db_table} ({columns}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
            for model, keys in ((PatientNameToken, tokens), (PatientPhoneToken, phones)):
                with raw.copy(f"COPY {model._meta.db_table} (patient_id, token) FROM STDIN") as c:
                    for values in keys:
                        c.write_row(values)
            rows.clear(), tokens.clear(), phones.clear()

        for row in patient_rows(n, rng):
            rows.append([row.get(f.attname, defaults[f.attname]) for f in fields])
            families.add(row["family_name"])
            for word in sorted(name_words_of(row["given_name"], row["family_name"])):
                tokens.append((row["id"], word))
                words.add(word)
            phones.extend((row["id"], t) for t in sorted(phone_tokens(row["phone"])))
            if len(rows) >= 20000:
                flush()
        if rows:
            flush()
        PatientNameWord.objects.bulk_create(
            [PatientNameWord(word=w) for w in sorted(words)], ignore_conflicts=True
        )
    with connection.cursor() as cursor:
        # MRNs 1..n were written directly: new registrations continue after them.
        table = MrnSerial._meta.db_table
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, n])
        cursor.execute("VACUUM ANALYZE")
    print(f"Seeded {n:,} patients in {time.perf_counter() - began:.1f} s")
    return sorted(families)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         f"--bind=127.0.0.1:{port}", f"--workers={workers}", "--threads=4",
         "--log-level=warning"],
        cwd=ROOT, env={**os.environ, **SERVER_ENV}, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 40
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/fhir/R4/metadata")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def load(port: int, headers: dict, paths, clients: int, seconds: float) -> dict:
    """`clients` threads, each with one keep-alive connection, for `seconds`."""
    latencies: list[float] = []
    failures = []
    seen_error: list[str] = []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client(n: int):
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < stop:
            began = time.perf_counter()
            try:
                conn.request("GET", paths(rng), headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                bad += 1
                if not seen_error:
                    seen_error.append(f"{response.status} {body[:200]!r}")
        with lock:
            latencies.extend(mine)
            failures.append(bad)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "requests": len(latencies),
        "errors": sum(failures),
        "first_error": seen_error[0] if seen_error else "",
    }


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
        recreate_database()
    setup_django()
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
    port = free_port()
    server = serve(port, args.workers)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; gunicorn "
          f"{args.workers} workers x 4 threads; {args.clients} clients, {args.seconds:.0f} s "
          f"each; {Patient.objects.count():,} patients ({when})")  # fmt: skip
    try:
        results = {
            "bare signed-in page": load(port, session_cookie(user), lambda r: "/bench/bare/",
                                        args.clients, args.seconds),
            "Patient read": load(port, api, lambda r: f"/fhir/R4/Patient/{r.choice(ids)}",
                                 args.clients, args.seconds),
            "Patient search (family)": load(
                port, api,
                lambda r: f"/fhir/R4/Patient?family={quote(r.choice(families)[:6])}&_count=10",
                args.clients, args.seconds,
            ),
        }  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for name, r in results.items():
        print(f"{name:26} {r['rps']:8,.0f} req/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms"
              f"   ({r['requests']:,} requests, {r['errors']} not 200)")  # fmt: skip
        if r["first_error"]:
            print(f"  first answer that was not 200: {r['first_error']}")
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
