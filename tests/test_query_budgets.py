"""The busiest pages run an exact number of queries, whatever the size of the data behind them.

A budget that grows by one is a real change: look at the listed statements, and either take the
new query out again or raise the budget here on purpose. Transaction control (BEGIN, COMMIT,
SAVEPOINT...) is not counted: SQLite logs it and PostgreSQL does not, and it costs no round trip
of its own. Each page is opened once first, so that what a session does once (store its activity
time, find that its user has no TOTP device) is not counted.
"""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hms.accounts.models import User
from hms.accounts.services import api_token_issue
from hms.clinical.tests.factories import (
    AllergyFactory,
    EncounterFactory,
    NoteFactory,
    PrescriptionFactory,
    VitalsFactory,
)
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory
from hms.scheduling.models import Appointment, AppointmentStatus, WaitlistEntry, WaitlistStatus
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db

_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@contextmanager
def exactly(count: int):
    with CaptureQueriesContext(connection) as captured:
        yield
    statements = [q["sql"] for q in captured if not _TRANSACTION_CONTROL.match(q["sql"])]
    listing = "\n".join(f"{n}. {sql[:160]}" for n, sql in enumerate(statements, 1))
    assert len(statements) == count, f"{len(statements)} queries, budget {count}:\n{listing}"


def test_the_budget_counts_statements_but_not_transaction_control():
    with exactly(1), transaction.atomic():
        User.objects.count()
    with pytest.raises(AssertionError, match="2 queries, budget 1"), exactly(1):
        User.objects.count()
        User.objects.exists()


@pytest.fixture
def book(make_user):
    """Books a new patient at 10:00 the day after tomorrow through the API with a receptionist's
    token (after a first booking at 09:00, so the token's once-a-minute use stamp is written)."""
    doctor = weekly_schedule().practitioner
    secret, _ = api_token_issue(user=make_user(Role.RECEPTIONIST))
    client = Client(headers={"Authorization": f"Bearer {secret}"})

    def book(hour: int = 10, patient=None):
        body = {"patient": str((patient or PatientFactory()).pk),
                "practitioner": str(doctor.pk), "start": at(2, hour).isoformat()}  # fmt: skip
        return client.post("/api/v1/appointments/", body, content_type="application/json")

    assert book(9).status_code == 201
    return book


def test_a_booking_through_the_api_runs_12_queries(book):
    # token with its user, patient, audit of the read, the schedule with its department and
    # practitioner, an appointment covering the time, the waitlist (another patient's hold
    # nearby, or an open entry of this patient's), an exception nearby, the working hours that
    # day; then the patient's lock, the appointment, its audit row and its outbox event (no
    # waitlist update: the patient has no open entry)
    patient = PatientFactory()
    with exactly(12):
        assert book(patient=patient).status_code == 201


def test_a_booking_of_a_patient_on_the_waitlist_runs_14_queries(book):
    # as above, then the holds nearby on their own, and the update of the entries it fulfils
    patient = PatientFactory()
    department = Appointment.objects.get().department  # the doctor's, from the first booking
    entry = WaitlistEntry.objects.create(patient=patient, department=department)
    with exactly(14):
        assert book(patient=patient).status_code == 201
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED


def test_a_booking_of_a_taken_time_is_refused_after_5_queries(book):
    # token with its user, patient, audit of the read, the schedule, the appointment that
    # covers the time
    assert book().status_code == 201
    patient = PatientFactory()
    with exactly(5):
        assert book(patient=patient).status_code == 409


def _appointments(schedule, patient, count: int) -> None:
    now = timezone.now()
    for n in range(count):
        start = now + timedelta(days=1, minutes=15 * n)
        Appointment.objects.create(
            patient=patient,
            practitioner=schedule.practitioner,
            department=schedule.department,
            start=start,
            end=start + timedelta(minutes=15),
            status=AppointmentStatus.BOOKED if n % 3 else AppointmentStatus.COMPLETED,
        )


@pytest.fixture
def portal(client_for):
    patient = PortalPatientFactory()
    return client_for(Role.PATIENT, user=patient.user), patient


def test_the_patient_dashboard_runs_5_queries(portal):
    # session, user, next appointment (with the patient record), audit row, unread messages
    # (the "Go to" card counts are cached for a glance)
    client, patient = portal
    _appointments(weekly_schedule(), patient, 12)
    client.get("/dashboard/")
    with exactly(5):
        assert client.get("/dashboard/").status_code == 200


def test_my_appointments_runs_8_queries(portal):
    # session, user, patient record, audit row, appointments, reminder opt-out, waitlist
    # offers, notifications
    client, patient = portal
    _appointments(weekly_schedule(), patient, 12)
    client.get("/scheduling/my/")
    with exactly(8):
        assert client.get("/scheduling/my/").status_code == 200


@pytest.mark.usefixtures("shared_cache")
def test_the_patient_dashboard_from_the_shared_cache_runs_3_queries(portal):
    # session, user, audit row: the next appointment, the unread messages and the card counts
    # come from the shared cache (Redis) while nothing of the patient's has changed
    client, patient = portal
    _appointments(weekly_schedule(), patient, 12)
    client.get("/dashboard/")
    client.get("/dashboard/")  # the first read of a patient is stored without its version
    with exactly(3):
        assert client.get("/dashboard/").status_code == 200


@pytest.mark.usefixtures("shared_cache")
def test_my_appointments_from_the_shared_cache_runs_3_queries(portal):
    # session, user, audit row: the appointments, offers, reminder choice and messages come
    # from the shared cache while nothing of the patient's has changed
    client, patient = portal
    _appointments(weekly_schedule(), patient, 12)
    client.get("/scheduling/my/")
    client.get("/scheduling/my/")
    with exactly(3):
        assert client.get("/scheduling/my/").status_code == 200


def test_a_doctor_s_dashboard_runs_9_queries(client_for):
    # session, user, today's appointments (one aggregate), the queues (waiting per department,
    # own department, departments), open encounters (one aggregate), results to review, unread
    # messages; the "Go to" card counts are cached for a glance
    schedule = weekly_schedule()
    client = client_for(Role.DOCTOR, user=schedule.practitioner)
    _appointments(schedule, PatientFactory(), 6)
    EncounterFactory.create_batch(3, practitioner=schedule.practitioner)
    client.get("/dashboard/")
    with exactly(9):
        assert client.get("/dashboard/").status_code == 200


def test_the_patient_search_page_runs_7_queries(client_for):
    # session, user, name-token count, matching ids, the patients, audit of the search and of
    # the patients shown (one insert each)
    client = client_for(Role.RECEPTIONIST)
    for _ in range(30):
        PatientFactory(family_name="Budgetson")
    client.get("/patients/", {"q": "budgetson"})
    with exactly(7):
        assert client.get("/patients/", {"q": "budgetson"}).status_code == 200


def test_the_chart_runs_15_queries(client_for):
    # session, user, patient, audit row, then one query per list: allergies, appointments,
    # problems, medications, vitals, lab results, encounters, notes, amendments, attachments,
    # identifiers
    patient = PatientFactory()
    for _ in range(3):
        encounter = EncounterFactory(patient=patient)
        VitalsFactory(encounter=encounter)
        NoteFactory(encounter=encounter, patient=patient)
        PrescriptionFactory(encounter=encounter, patient=patient)
    AllergyFactory.create_batch(2, patient=patient)
    client = client_for(Role.DOCTOR)
    client.get(f"/patients/{patient.pk}/")
    with exactly(15):
        assert client.get(f"/patients/{patient.pk}/").status_code == 200
