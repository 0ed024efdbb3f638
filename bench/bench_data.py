"""The benchmark's data, run by bench/run_all.py in a subprocess that has the server's settings.

    python -m bench.bench_data seed OUT.json   # schedules, patients, signed-in sessions, bodies
    python -m bench.bench_data check IN.json   # after the storm: double bookings, audit counts

Never run it against a database you care about: run_all.py points it at its own.
"""

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.scheduling_bench import double_bookings  # noqa: E402
from bench.scheduling_bench import seed as seed_schedules  # noqa: E402
from hms.accounts.models import User  # noqa: E402
from hms.core.models import AuditEvent  # noqa: E402
from hms.core.permissions import Role  # noqa: E402
from hms.patients.models import Patient, PatientNameToken  # noqa: E402
from hms.scheduling.models import Appointment, AppointmentStatus  # noqa: E402
from hms.scheduling.slots import free_slots  # noqa: E402

PASSWORD = "bench-pass-2026-x"
SEARCH = "patient42"  # matches patient42, patient420..429, patient4200..4299: a full page


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def seed(out: Path, pool_size: int, storm_requests: int) -> None:
    _departments, token = seed_schedules(practitioners=200, patients=5000)
    # The schedule seed bulk-creates patients: give them the name tokens search reads.
    PatientNameToken.objects.bulk_create(
        PatientNameToken(patient_id=pk, token=word)
        for pk, family in Patient.objects.values_list("pk", "family_name")
        for word in ("bench", family.lower())
    )
    month = free_slots(start=timezone.now(), end=timezone.now() + timedelta(days=31))
    rng = random.Random(7)
    # The portal patient: an account, a record and a history of twelve appointments.
    person = User.objects.create_user(
        "bench-patient@bench.hms", PASSWORD, given_name="Pat", family_name="Bench",
        role=Role.PATIENT,
    )  # fmt: skip
    own = Patient.objects.create(
        mrn="P00000001", user=person, given_name="Pat", family_name="Bench",
        birth_date=date(1990, 5, 1),
    )  # fmt: skip
    for n, slot in enumerate(rng.sample(month, 12)):
        Appointment.objects.create(
            patient=own, practitioner_id=slot.practitioner_id, department_id=slot.department_id,
            start=slot.start, end=slot.end,
            status=AppointmentStatus.BOOKED if n % 4 else AppointmentStatus.CANCELLED,
        )  # fmt: skip
    receptionist = User.objects.create_user(
        "bench-reception@bench.hms", PASSWORD, given_name="Rita", family_name="Bench",
        role=Role.RECEPTIONIST,
    )  # fmt: skip
    # The storm: each request books a patient (each a different one) into a slot of the pool;
    # the pool is smaller than the storm, so many requests collide on the same slot.
    pool = rng.sample(month, min(pool_size, len(month)))
    patients = list(Patient.objects.exclude(pk=own.pk).values_list("pk", flat=True))
    bodies = []
    for n in range(storm_requests):
        slot = rng.choice(pool)
        bodies.append(
            {
                "patient": str(patients[n % len(patients)]),
                "practitioner": str(slot.practitioner_id),
                "start": slot.start.isoformat(),
            }
        )
    out.write_text(
        json.dumps(
            {
                "patient_cookie": _session_cookie(person),
                "staff_cookie": _session_cookie(receptionist),
                "token": token,
                "search": SEARCH,
                "bodies": bodies,
                "audit_before": AuditEvent.objects.count(),
                "appointments_before": Appointment.objects.count(),
            }
        )
    )


def check(data: Path, outcomes: dict[str, int]) -> None:
    """Prints what the database holds after the storm, as JSON."""
    seeded = json.loads(data.read_text())
    clerk = User.objects.get(email="bench-clerk@bench.hms")
    practitioner_doubles, patient_doubles = double_bookings()
    storm_rows = AuditEvent.objects.filter(actor=clerk)
    print(
        json.dumps(
            {
                "requests": sum(outcomes.values()),
                "created": outcomes.get("201", 0),
                "appointments_added": Appointment.objects.count() - seeded["appointments_before"],
                "audit_reads": storm_rows.filter(action="patient.view").count(),
                "audit_bookings": storm_rows.filter(action="appointment.book").count(),
                "double_bookings": practitioner_doubles + patient_doubles,
            }
        )
    )


if __name__ == "__main__":
    command, path = sys.argv[1], Path(sys.argv[2])
    if command == "seed":
        seed(path, pool_size=int(sys.argv[3]), storm_requests=int(sys.argv[4]))
    else:
        check(path, json.loads(sys.argv[3]))
