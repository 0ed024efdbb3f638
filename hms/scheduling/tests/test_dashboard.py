from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.permissions import Role
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory

pytestmark = pytest.mark.django_db


def _appointment(schedule, *, patient=None, start=None, status=AppointmentStatus.BOOKED):
    start = start or at(0, 12)  # today's noon: today's whole day counts, at any hour of the run
    return Appointment.objects.create(
        patient=patient or PatientFactory(),
        practitioner=schedule.practitioner,
        department=schedule.department,
        start=start,
        end=start + timedelta(minutes=15),
        status=status,
    )


def test_a_doctor_sees_their_own_list_for_today_on_the_dashboard(client_for, schedule):
    _appointment(schedule)
    client = client_for(Role.DOCTOR, user=schedule.practitioner)
    response = client.get(reverse("core:dashboard"))
    assert b"Your list today" in response.content
    assert b"<strong>1</strong> appointment" in response.content


def test_a_receptionist_sees_the_hospital_s_day_and_cancelled_visits_do_not_count(
    client_for, schedule
):
    _appointment(schedule)
    _appointment(schedule, status=AppointmentStatus.CANCELLED)
    response = client_for(Role.RECEPTIONIST).get(reverse("core:dashboard"))
    assert b"Across the hospital today" in response.content
    assert b"<strong>1</strong> appointment" in response.content
    assert b"Cancelled: 1" in response.content


def test_a_patient_sees_only_their_own_next_appointment(client_for, schedule):
    mine = PortalPatientFactory()
    someone_else = PatientFactory()
    _appointment(schedule, patient=someone_else, start=timezone.now() + timedelta(hours=1))
    _appointment(schedule, patient=mine, start=timezone.now() + timedelta(days=3))
    response = client_for(Role.PATIENT, user=mine.user).get(reverse("core:dashboard"))
    assert b"Your next appointment" in response.content
    assert schedule.practitioner.full_name.encode() in response.content
    expected = timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%-d %B")
    assert expected.encode() in response.content


def test_billing_clerks_get_no_appointment_widget(client_for, schedule):
    _appointment(schedule)
    response = client_for(Role.BILLING).get(reverse("core:dashboard"))
    assert b"Today&#x27;s appointments" not in response.content
    assert b"Today's appointments" not in response.content


def test_the_dashboard_query_count_does_not_grow_with_the_day(
    client_for, schedule, django_assert_max_num_queries
):
    client = client_for(Role.DOCTOR, user=schedule.practitioner)
    for n in range(30):
        _appointment(schedule, start=timezone.now() + timedelta(minutes=5 + 15 * n))
    # widgets, the unread notifications (core), and one count query per "Go to" card
    with django_assert_max_num_queries(22):
        assert client.get(reverse("core:dashboard")).status_code == 200
