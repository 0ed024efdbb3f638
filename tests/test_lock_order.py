"""Merges, check-ins and bookings of the same patients at once: every transaction takes the
patient row first (see hms/scheduling/services.py), so they wait for each other and never
deadlock; the audit trail they all write stays one verifiable chain."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from hms.core.audit import audit_chain_breaks, audit_seal
from hms.core.errors import DomainError
from hms.core.permissions import Role
from hms.patients import services as patients
from hms.scheduling import services as scheduling
from hms.scheduling.models import Appointment, AppointmentStatus, BookingKind
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

PAIRS = 6


def _run(barrier, outcomes: list[str], action) -> None:
    try:
        barrier.wait(timeout=30)
        action()
        outcomes.append("done")
    except DomainError as exc:  # a refusal (merged meanwhile, busy) is a fine outcome
        outcomes.append(exc.code)
    except Exception as exc:  # a deadlock or anything else fails the test below
        outcomes.append(repr(exc))
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_merges_check_ins_and_bookings_of_the_same_patients_never_deadlock(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: there is no lock order to get wrong")
    doctor = weekly_schedule().practitioner
    admin, clerk = make_user(Role.ADMIN), make_user(Role.RECEPTIONIST)
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=5)
    pairs = []
    for n in range(PAIRS):
        survivor, duplicate = PatientFactory(), PatientFactory()
        booked = Appointment.objects.create(
            patient=duplicate, practitioner=doctor, department=doctor.schedule.department,
            start=soon + timedelta(minutes=n), end=soon + timedelta(minutes=n + 1),
            status=AppointmentStatus.BOOKED,
        )  # fmt: skip
        pairs.append((survivor, duplicate, booked))

    barrier = threading.Barrier(3 * PAIRS)
    outcomes: list[str] = []
    actions = []
    for survivor, duplicate, booked in pairs:
        actions += [
            lambda s=survivor, d=duplicate: patients.patient_merge(
                actor=admin, survivor=s, duplicate=d, reason="same person"
            ),
            lambda a=booked: scheduling.appointment_check_in(actor=clerk, appointment=a),
            lambda s=survivor: scheduling.appointment_book(
                actor=doctor,
                patient=s,
                practitioner=doctor,
                start=timezone.now(),
                kind=BookingKind.WALK_IN,
            ),  # fmt: skip
        ]
    threads = [threading.Thread(target=_run, args=(barrier, outcomes, a)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = [outcome for outcome in outcomes if "(" in outcome]
    assert not failures, failures
    assert outcomes.count("done") >= 2 * PAIRS  # every merge and booking went through
    for _survivor, duplicate, _booked in pairs:
        assert not Appointment.objects.filter(patient=duplicate).exists()
    audit_seal()
    assert list(audit_chain_breaks()) == []
