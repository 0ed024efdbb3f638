"""CPU of one booking through the API, measured in-process next to the bare page (bench/bare.py).

The booking storm's wall-clock figures move with whatever else the machine runs; the CPU time one
request costs this process does not. In its own PostgreSQL database (recreated), with the
benchmark's settings (DEBUG=0), the test client sends, round after round:
  * GET /bench/bare/ signed in (the framework's floor: session, user, one query, a template);
  * POST /api/v1/appointments/ with a bearer token, each a free slot and another patient (201);
  * the same POST at a slot just booked, for yet another patient (409 slot_taken).
It prints the median CPU ms of each (time.process_time: this process only, not PostgreSQL's),
the ratios to the bare page, and the queries of one booking and of one collision.

Usage: .venv/bin/python bench/booking_cpu.py [--rounds 5] [--per-round 100] [--profile FILE]
Needs PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432); --sqlite uses a
temporary SQLite file instead. --profile FILE writes cProfile statistics (CPU time) of the
bookings to FILE.booking and of the collisions to FILE.collision.
"""

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package from this checkout

from bench.databases import recreate_postgres  # noqa: E402
from bench.serving import bench_settings, start_django  # noqa: E402

DB_NAME = "hms_bench_booking_cpu"


def configure(sqlite: bool) -> None:
    if sqlite:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='booking-cpu-')}/db.sqlite3"
    else:
        url = recreate_postgres(DB_NAME)
    os.environ.pop("REDIS_URL", None)
    start_django(bench_settings(url), migrate=True)
    print(f"database {url} (recreated)")


def cpu_ms(send, requests: list, expect: int) -> float:
    """Mean CPU milliseconds per request of one batch; every answer must be `expect`."""
    started = time.process_time()
    for request in requests:
        response = send(request)
        if response.status_code != expect:
            raise SystemExit(f"expected {expect}, got {response.status_code}: {response.content}")
    return (time.process_time() - started) * 1000 / len(requests)


def queries_of(send, request, expect: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = send(request)
    assert response.status_code == expect, response.content
    return [q["sql"] for q in captured]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--profile", help="write cProfile statistics to FILE.booking, .collision")
    parser.add_argument("--show-queries", action="store_true")
    args = parser.parse_args()
    configure(args.sqlite)

    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from bench.scheduling_bench import double_bookings, seed
    from hms.accounts.models import User
    from hms.patients.models import Patient
    from hms.scheduling.slots import free_slots

    needed = args.rounds * args.per_round + 2
    _departments, token = seed(practitioners=200, patients=2 * needed + 10)
    now = timezone.now()
    slots = free_slots(start=now + timedelta(days=1), end=now + timedelta(days=31))[::3]
    if len(slots) < needed:
        raise SystemExit(f"only {len(slots)} free slots for {needed} bookings")
    patients = [str(pk) for pk in Patient.objects.values_list("pk", flat=True)]

    def body(slot, patient: str) -> str:
        return json.dumps(
            {
                "patient": patient,
                "practitioner": str(slot.practitioner_id),
                "start": slot.start.isoformat(),
            }
        )

    api = Client(headers={"Authorization": f"Bearer {token}"})
    page = Client()
    page.force_login(User.objects.get(email="bench-clerk@bench.hms"))

    def book(data: str):
        return api.post("/api/v1/appointments/", data, content_type="application/json")

    def bare(_):
        return page.get("/bench/bare/")

    # Warm up (first requests build caches, URL resolvers, serializers), and count queries.
    for _ in range(20):
        bare(None)
    first, rest = slots[:2], slots[2:]
    booking_sql = queries_of(book, body(first[0], patients.pop()), 201)
    book(body(first[1], patients.pop()))
    collision_sql = queries_of(book, body(first[1], patients.pop()), 409)

    figures: dict[str, list[float]] = {"bare": [], "booking": [], "collision": []}
    profilers = {name: cProfile.Profile(time.process_time) for name in ("booking", "collision")}

    def measured(name: str, requests: list, expect: int) -> float:
        if not args.profile:
            return cpu_ms(book, requests, expect)
        profilers[name].enable()
        try:
            return cpu_ms(book, requests, expect)
        finally:
            profilers[name].disable()

    for n in range(args.rounds):
        batch = rest[n * args.per_round : (n + 1) * args.per_round]
        figures["bare"].append(cpu_ms(bare, [None] * args.per_round, 200))
        bookings = [body(slot, patients.pop()) for slot in batch]
        figures["booking"].append(measured("booking", bookings, 201))
        collisions = [body(slot, patients.pop()) for slot in batch]
        figures["collision"].append(measured("collision", collisions, 409))
    if args.profile:
        for name, profiler in profilers.items():
            profiler.dump_stats(f"{args.profile}.{name}")

    bare_ms = statistics.median(figures["bare"])
    print(f"{args.rounds} rounds x {args.per_round} requests; median CPU ms per request:")
    for name, runs in figures.items():
        ms = statistics.median(runs)
        spread = ", ".join(f"{run:.2f}" for run in runs)
        print(f"  {name:<10} {ms:6.2f} ms  = {ms / bare_ms:5.2f} x bare page   ({spread})")
    print(f"  queries: booking {len(booking_sql)}, collision {len(collision_sql)}")
    if args.show_queries:
        for label, sql in (("booking", booking_sql), ("collision", collision_sql)):
            print(f"-- {label}")
            for n, statement in enumerate(sql, 1):
                print(f"{n:3}. {statement[:200]}")
    practitioner_doubles, patient_doubles = double_bookings()
    if practitioner_doubles or patient_doubles:
        raise SystemExit("DOUBLE BOOKINGS FOUND")


if __name__ == "__main__":
    main()
