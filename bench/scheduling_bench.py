"""Scheduling benchmark (not part of the test suite; prints figures).

1. A month of schedules for 200 practitioners (10 departments, Mon-Fri 09:00-17:00 with a lunch
   break, 15-minute slots) in its own PostgreSQL database.
2. Free-slot search: one department (20 practitioners) for one week; and all 200 for a month.
3. Booking throughput: gunicorn serving the API, 32 concurrent clients POSTing
   /api/v1/appointments/ at a deliberately small pool of slots (so many requests collide),
   then the count of double bookings read back from the database (must be 0).

Usage: .venv/bin/python bench/scheduling_bench.py [--requests 3000] [--workers 4]
Needs PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432) and sends traffic
only to 127.0.0.1. The run is bounded in request count and time.
"""

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "hms_bench_sched"
DATABASE_URL = f"{PG}/{DB_NAME}"
SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "AXES_ENABLED": "0",
    "LOG_LEVEL": "ERROR",
    "TASKS_BACKEND": "dummy",
}


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    env = {**os.environ, **SERVER_ENV}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def setup_django() -> None:
    os.environ.update(SERVER_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


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


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--threads=4",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def book_storm(port: int, token: str, pool, patients, requests: int, clients: int, limit_s: float):
    import json
    import random

    latencies: list[float] = []
    outcomes: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.time() + limit_s
    counter = iter(range(requests))
    url = f"http://127.0.0.1:{port}/api/v1/appointments/"

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.time() < stop_at:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            slot = rng.choice(pool)
            body = json.dumps(
                {
                    "patient": str(patients[n % len(patients)]),
                    "practitioner": str(slot.practitioner_id),
                    "start": slot.start.isoformat(),
                }
            ).encode()
            request = urllib.request.Request(  # noqa: S310 (loopback only)
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                outcomes[status] = outcomes.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool_exec:
        list(pool_exec.map(client, range(clients)))
    return time.perf_counter() - started, latencies, outcomes


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
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pool", type=int, default=1500, help="slots the clients aim at")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--time-limit", type=float, default=180.0)
    args = parser.parse_args()

    print(f"database {DATABASE_URL} (recreated)")
    recreate_database()
    setup_django()
    started = time.perf_counter()
    departments, token = seed(practitioners=200, patients=5000)
    print(f"seeded 200 practitioners, 1000 weekly sessions, 5000 patients in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    month = time_slot_search(departments)

    import random

    from hms.patients.models import Patient

    pool = random.Random(7).sample(month, min(args.pool, len(month)))
    patients = list(Patient.objects.values_list("pk", flat=True))
    port = args.port or free_port()
    server = serve(port, args.workers)
    try:
        elapsed, latencies, outcomes = book_storm(
            port, token, pool, patients, args.requests, args.clients, args.time_limit
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    booked = outcomes.get(201, 0)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 20 else max(latencies)
    print(f"booking storm: {len(latencies)} requests from {args.clients} clients against gunicorn "
          f"({args.workers} workers x 4 threads) in {elapsed:.1f} s")  # fmt: skip
    print(f"  outcomes by HTTP status: {dict(sorted(outcomes.items()))}")
    print(f"  bookings/second (201s): {booked / elapsed:.1f}")
    print(f"  requests/second (all): {len(latencies) / elapsed:.1f}")
    print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    from hms.scheduling.models import Appointment

    practitioner_doubles, patient_doubles = double_bookings()
    print(f"  appointments in the database: {Appointment.objects.count()} (201s: {booked})")
    print(f"  double bookings: practitioner {practitioner_doubles}, patient {patient_doubles}")
    if practitioner_doubles or patient_doubles:
        raise SystemExit("DOUBLE BOOKINGS FOUND")
    if booked == 0 or set(outcomes) - {201, 409}:
        raise SystemExit("unexpected answers: see the outcomes above")


if __name__ == "__main__":
    main()
