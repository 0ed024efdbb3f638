"""Scheduling benchmark (not part of the test suite; prints figures).

1. A month of schedules for 200 practitioners (10 departments, Mon-Fri 09:00-17:00 with a lunch
   break, 15-minute slots) in its own PostgreSQL database.
2. Free-slot search: one department (20 practitioners) for one week; and all 200 for a month.
3. Booking throughput: gunicorn serving the API, 32 concurrent clients (in 4 processes of
   their own) POSTing /api/v1/appointments/ at a deliberately small pool of slots (so many
   requests collide), then the count of double bookings read back from the database (must be 0).

Usage: .venv/bin/python bench/scheduling_bench.py [--requests 3000] [--workers 4]
Needs PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432) and sends traffic
only to 127.0.0.1. The run is bounded in request count and time.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package from this checkout

from bench.databases import PG, recreate_postgres  # noqa: E402
from bench.serving import Server, bench_settings, start_django  # noqa: E402
from bench.storm import storm  # noqa: E402

DB_NAME = "hms_bench_sched"
DATABASE_URL = f"{PG}/{DB_NAME}"
SERVER_ENV = bench_settings(DATABASE_URL)


def seed(practitioners: int, patients: int):
    from datetime import date, time

    from hms.accounts.models import StaffProfile, User
    from hms.accounts.services import api_token_issue
    from hms.core.models import Department
    from hms.core.permissions import Role
    from hms.patients.models import Patient
    from hms.scheduling.models import Schedule, WorkingHours

    departments = [
        Department.objects.create(name=f"Bench department {n}", slug=f"bench-{n}")
        for n in range(10)
    ]
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench-dr{n}@bench.hms",
                given_name="Doctor",
                family_name=f"Bench{n:03d}",
                role=Role.DOCTOR,
            )
            for n in range(practitioners)
        ]
    )
    StaffProfile.objects.bulk_create(
        [StaffProfile(user=u, department=departments[n % 10]) for n, u in enumerate(users)]
    )
    schedules = Schedule.objects.bulk_create(
        [Schedule(practitioner=u, department=departments[n % 10]) for n, u in enumerate(users)]
    )
    WorkingHours.objects.bulk_create(
        [
            WorkingHours(
                schedule=s,
                weekday=day,
                start_time=time(9),
                end_time=time(17),
                slot_minutes=15,
                break_start=time(12, 30),
                break_end=time(13, 30),
                location="Bench clinic",
            )
            for s in schedules
            for day in range(5)
        ]
    )
    Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"B{n:09d}",
                given_name="Bench",
                family_name=f"Patient{n}",
                birth_date=date(1980, 1, 1),
            )
            for n in range(patients)
        ]
    )
    clerk = User.objects.create_user(
        "bench-clerk@bench.hms", "bench-pass-2026-x", given_name="B", family_name="C",
        role=Role.RECEPTIONIST,
    )  # fmt: skip
    secret, _ = api_token_issue(user=clerk)
    return departments, secret


def time_slot_search(departments) -> None:
    from datetime import timedelta

    from django.db import connection, reset_queries
    from django.utils import timezone

    from hms.scheduling.slots import free_slots

    now = timezone.now()
    runs = []
    for _ in range(20):
        started = time.perf_counter()
        slots = free_slots(start=now, end=now + timedelta(days=7), department_id=departments[0].pk)
        runs.append(time.perf_counter() - started)
    print(
        f"free-slot search, 1 department (20 practitioners) x 1 week: {len(slots)} slots, "
        f"median {statistics.median(runs) * 1000:.1f} ms, max {max(runs) * 1000:.1f} ms"
    )
    started = time.perf_counter()
    reset_queries()
    month = free_slots(start=now, end=now + timedelta(days=31))
    elapsed = time.perf_counter() - started
    print(
        f"free-slot search, all 200 practitioners x 1 month: {len(month)} slots in "
        f"{elapsed * 1000:.0f} ms ({len(connection.queries) or 'n/a'} queries)"
    )
    return month


def double_bookings() -> tuple[int, int]:
    from django.db import connection

    active = "status NOT IN ('cancelled', 'no_show')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
                ON a.practitioner_id = b.practitioner_id AND a.id < b.id
               AND a.start < b."end" AND b.start < a."end"
               WHERE a.{active} AND b.{active} AND NOT a.overbooked AND NOT b.overbooked"""  # noqa: S608
        )
        practitioner = cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
                ON a.patient_id = b.patient_id AND a.id < b.id
               AND a.start < b."end" AND b.start < a."end"
               WHERE a.{active} AND b.{active}"""  # noqa: S608
        )
        patient = cursor.fetchone()[0]
    return practitioner, patient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="the clients' processes")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pool", type=int, default=1500, help="slots the clients aim at")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--time-limit", type=float, default=180.0)
    args = parser.parse_args()

    print(f"database {DATABASE_URL} (recreated)")
    recreate_postgres(DB_NAME)
    start_django(SERVER_ENV, migrate=True)
    started = time.perf_counter()
    departments, token = seed(practitioners=200, patients=5000)
    print(f"seeded 200 practitioners, 1000 weekly sessions, 5000 patients in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    month = time_slot_search(departments)

    import random

    from hms.patients.models import Patient

    rng = random.Random(7)
    pool = rng.sample(month, min(args.pool, len(month)))
    patients = [str(pk) for pk in Patient.objects.values_list("pk", flat=True)]
    bodies = []
    for n in range(args.requests):
        slot = rng.choice(pool)
        bodies.append(
            {
                "patient": patients[n % len(patients)],
                "practitioner": str(slot.practitioner_id),
                "start": slot.start.isoformat(),
            }
        )
    server = Server({**os.environ, **SERVER_ENV}, args.workers, threads=4, port=args.port)
    try:
        result = storm(server, token, bodies, args.clients, args.processes, args.time_limit)
    finally:
        server.stop()
    outcomes, elapsed = result["outcomes"], result["elapsed"]
    booked = outcomes.get("201", 0)
    print(f"booking storm: {sum(outcomes.values())} requests from {args.clients} clients in "
          f"{args.processes} processes against gunicorn ({args.workers} workers x 4 threads) in "
          f"{elapsed:.1f} s")  # fmt: skip
    print(f"  outcomes by HTTP status: {dict(sorted(outcomes.items()))}")
    print(f"  bookings/second (201s): {result['bookings_per_s']:.1f}")
    print(f"  requests/second (all): {result['requests_per_s']:.1f}")
    print(f"  latency p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms")
    print(f"  the clients' CPU: {result['generator_cpu']:.2f} cores; "
          f"machine {result['busy']:.0%} busy")  # fmt: skip
    from hms.scheduling.models import Appointment

    practitioner_doubles, patient_doubles = double_bookings()
    print(f"  appointments in the database: {Appointment.objects.count()} (201s: {booked})")
    print(f"  double bookings: practitioner {practitioner_doubles}, patient {patient_doubles}")
    if practitioner_doubles or patient_doubles:
        raise SystemExit("DOUBLE BOOKINGS FOUND")
    if booked == 0 or set(outcomes) - {"201", "409"}:
        raise SystemExit("unexpected answers: see the outcomes above")


if __name__ == "__main__":
    main()
