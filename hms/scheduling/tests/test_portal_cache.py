"""The portal's dashboard and "My appointments" come from the shared cache while nothing of the
patient's has changed: a change shows at once, and every showing is still audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]

DASHBOARD = reverse("core:dashboard")
MY_APPOINTMENTS = reverse("scheduling:portal-appointments")


@pytest.fixture
def portal(client_for):
    patient = PortalPatientFactory()
    return client_for(Role.PATIENT, user=patient.user), patient


def _book(schedule, patient, start, actor, capture) -> Appointment:
    with capture(execute=True):  # the change commits: its versions are set then
        return services.appointment_book(
            actor=actor, patient=patient, practitioner=schedule.practitioner, start=start
        )


def _booked_in(schedule, patient, lead: timedelta) -> Appointment:
    """A booked appointment starting `lead` from now, written directly."""
    start = timezone.now() + lead
    return Appointment.objects.create(
        patient=patient, practitioner=schedule.practitioner, department=schedule.department,
        start=start, end=start + timedelta(minutes=15), status=AppointmentStatus.BOOKED,
    )  # fmt: skip


def _seen_twice(client, url: str) -> bytes:
    client.get(url)  # the first read of a patient is stored without a version
    return client.get(url).content  # this one is stored with it, then served from the cache


def test_a_booking_by_reception_shows_on_the_dashboard_and_my_appointments_at_once(
    portal, schedule, make_user, django_capture_on_commit_callbacks
):
    client, patient = portal
    assert b"You have no upcoming appointment." in _seen_twice(client, DASHBOARD)
    assert b"You have no upcoming appointments." in _seen_twice(client, MY_APPOINTMENTS)
    _book(schedule, patient, at(2, 10), make_user(Role.RECEPTIONIST),
          django_capture_on_commit_callbacks)  # fmt: skip
    when = timezone.localtime(at(2, 10)).strftime("%-d %B, %H:%M").encode()
    assert when in client.get(DASHBOARD).content
    assert b"data-appointment=" in client.get(MY_APPOINTMENTS).content


def test_a_cancelled_appointment_leaves_the_cached_pages_at_once(
    portal, schedule, make_user, django_capture_on_commit_callbacks
):
    client, patient = portal
    appointment = _book(schedule, patient, at(3, 11), make_user(Role.RECEPTIONIST),
                        django_capture_on_commit_callbacks)  # fmt: skip
    assert b"Manage my appointments" in _seen_twice(client, DASHBOARD)
    page = _seen_twice(client, MY_APPOINTMENTS)
    assert f'data-appointment="{appointment.pk}"'.encode() in page
    # The cached rows carry no CSRF token: each Cancel button submits the page's one form.
    cancel = reverse("scheduling:portal-cancel", args=[appointment.pk])
    assert f'form="cancel-appointment" formaction="{cancel}"'.encode() in page
    form = b'<form method="post" id="cancel-appointment" hidden><input type="hidden" name="csrf'
    assert form in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scheduling:portal-cancel", args=[appointment.pk]), {"reason": "ill"})
    assert b"You have no upcoming appointment." in client.get(DASHBOARD).content
    page = client.get(MY_APPOINTMENTS).content
    assert b"You have no upcoming appointments." in page
    assert b"Earlier and cancelled" in page


def test_every_showing_from_the_cache_is_audited(portal, schedule):
    client, patient = portal
    _booked_in(schedule, patient, timedelta(days=1))
    for _ in range(3):
        client.get(DASHBOARD)
        client.get(MY_APPOINTMENTS)
    rows = AuditEvent.objects.filter(actor=patient.user, patient_ref=str(patient.pk))
    assert rows.filter(action="appointment.view").count() == 3
    assert rows.filter(action="appointment.list").count() == 3


def test_an_appointment_that_has_started_is_not_shown_from_the_cache(portal, schedule, monkeypatch):
    client, patient = portal
    appointment = _booked_in(schedule, patient, timedelta(hours=1))
    assert b"Manage my appointments" in _seen_twice(client, DASHBOARD)
    assert b'id="upcoming"' in _seen_twice(client, MY_APPOINTMENTS)
    assert b"You have no upcoming appointments." not in client.get(MY_APPOINTMENTS).content
    later = appointment.start + timedelta(minutes=30)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert b"You have no upcoming appointment." in client.get(DASHBOARD).content
    assert b"You have no upcoming appointments." in client.get(MY_APPOINTMENTS).content


def test_another_patients_change_keeps_the_cached_pages(
    portal, schedule, make_user, django_capture_on_commit_callbacks, django_assert_num_queries
):
    client, patient = portal
    _seen_twice(client, DASHBOARD)
    _book(schedule, PortalPatientFactory(), at(2, 9), make_user(Role.RECEPTIONIST),
          django_capture_on_commit_callbacks)  # fmt: skip
    with django_assert_num_queries(3):  # session, user, the audit row: no read of appointments
        client.get(DASHBOARD)
