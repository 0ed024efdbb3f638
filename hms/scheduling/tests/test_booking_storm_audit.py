"""A small booking storm through the API: nothing it did is missing from the audit trail.

Concurrent clients book a few slots (most requests collide). Every request leaves its read of
the patient, every booking that was answered 201 leaves exactly one `appointment.book` row
naming the appointment created, and the chain still verifies afterwards. The benchmark's
storm (bench/run_all.py) makes the same count on a bigger scale.
"""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from hms.accounts.services import api_token_issue
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.scheduling.models import Appointment
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

CLIENTS, REQUESTS_EACH, SLOTS = 6, 5, 4


def _client_books(secret: str, bodies: list[dict], statuses: list[int], barrier) -> None:
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    try:
        barrier.wait(timeout=30)
        for body in bodies:
            response = client.post(
                "/api/v1/appointments/", json.dumps(body), content_type="application/json"
            )
            statuses.append(response.status_code)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_every_request_of_a_concurrent_booking_storm_is_in_the_audit_trail(make_user):
    doctor = weekly_schedule().practitioner
    clerk = make_user(Role.RECEPTIONIST)
    secret, _ = api_token_issue(user=clerk)
    patients = PatientFactory.create_batch(CLIENTS * REQUESTS_EACH)
    starts = [at(2, 9, 15 * n) for n in range(SLOTS)]
    statuses: list[int] = []
    barrier = threading.Barrier(CLIENTS)
    threads = [
        threading.Thread(
            target=_client_books,
            args=(
                secret,
                [
                    {
                        "patient": str(patients[c * REQUESTS_EACH + n].pk),
                        "practitioner": str(doctor.pk),
                        "start": starts[(c + n) % SLOTS].isoformat(),
                    }
                    for n in range(REQUESTS_EACH)
                ],
                statuses,
                barrier,
            ),
        )
        for c in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == CLIENTS * REQUESTS_EACH
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) == SLOTS  # each slot booked once, every other request refused
    rows = AuditEvent.objects.filter(actor=clerk)
    assert rows.filter(action="patient.view").count() == len(statuses)
    booked = set(rows.filter(action="appointment.book").values_list("object_id", flat=True))
    created = {str(pk) for pk in Appointment.objects.values_list("pk", flat=True)}
    assert booked == created and len(created) == SLOTS
    call_command("audit_seal")
    call_command("audit_verify")  # raises CommandError when the chain does not hold
