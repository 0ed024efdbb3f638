"""Check-in opens CHECK_IN_OPENS_HOURS_BEFORE an appointment and closes at the end of its day,
in the hospital's zone: Tuesday's 09:00 appointment cannot be checked in on Monday evening
(which opened its encounter a day early)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.errors import DomainError
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus, BookingKind
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _appointment(doctor, start: datetime) -> Appointment:
    """An appointment at any time (outside the slot grid too), straight into the table."""
    return Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=doctor,
        department_id=doctor.schedule.department_id,
        start=start,
        end=start + timedelta(minutes=15),
    )


def test_the_window_runs_from_two_hours_before_to_midnight_in_the_hospitals_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    new_york = zoneinfo.ZoneInfo("America/New_York")
    opens, closes = services.check_in_window(datetime(2026, 3, 10, 9, 0, tzinfo=new_york))
    assert opens == datetime(2026, 3, 10, 7, 0, tzinfo=new_york)
    assert closes == datetime(2026, 3, 11, 0, 0, tzinfo=new_york)
    settings.CHECK_IN_OPENS_HOURS_BEFORE = 4
    opens, _ = services.check_in_window(datetime(2026, 3, 10, 9, 0, tzinfo=new_york))
    assert opens == datetime(2026, 3, 10, 5, 0, tzinfo=new_york)


def test_tomorrows_appointment_cannot_be_checked_in_today(make_user, doctor):
    appointment = _appointment(doctor, at(1, 9))
    with pytest.raises(DomainError) as error:
        services.appointment_check_in(actor=make_user(Role.RECEPTIONIST), appointment=appointment)
    assert error.value.code == "too_early"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.checked_in_at is None


def test_an_appointment_is_checked_in_in_its_window(make_user, doctor):
    appointment = _appointment(doctor, timezone.now() + timedelta(hours=1))
    checked = services.appointment_check_in(
        actor=make_user(Role.RECEPTIONIST), appointment=appointment
    )
    assert checked.status == AppointmentStatus.CHECKED_IN and checked.checked_in_at is not None


def test_check_in_closes_at_the_end_of_the_appointments_day(make_user, doctor):
    appointment = _appointment(doctor, at(-1, 10))
    with pytest.raises(DomainError) as error:
        services.appointment_check_in(actor=make_user(Role.RECEPTIONIST), appointment=appointment)
    assert error.value.code == "too_late"


def test_the_api_refuses_an_early_check_in_with_a_clear_error(client_for, doctor):
    appointment = _appointment(doctor, at(1, 9))
    url = f"/api/v1/appointments/{appointment.pk}/check-in/"
    response = client_for(Role.RECEPTIONIST).post(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_early"
    assert "Check-in opens" in response.json()["error"]["message"]


def test_a_walk_in_for_another_day_is_refused(make_user, doctor):
    with pytest.raises(DomainError) as error:
        services.appointment_book(
            actor=make_user(Role.DOCTOR), patient=PatientFactory(), practitioner=doctor,
            start=at(1, 9), kind=BookingKind.WALK_IN,
        )  # fmt: skip
    assert error.value.code == "too_early"


def test_the_appointment_page_says_when_check_in_opens_instead_of_offering_it(client_for, doctor):
    appointment = _appointment(doctor, at(1, 9))
    page = client_for(Role.RECEPTIONIST).get(
        reverse("scheduling:appointment-detail", args=[appointment.pk])
    )
    body = page.content.decode()
    assert "Check-in opens" in body
    assert reverse("scheduling:appointment-check-in", args=[appointment.pk]) not in body


def test_the_queue_shows_who_is_checked_in_and_not_who_is_only_booked(
    client_for, make_user, doctor
):
    arrived = _appointment(doctor, timezone.now() + timedelta(hours=1))
    services.appointment_check_in(actor=make_user(Role.RECEPTIONIST), appointment=arrived)
    booked = _appointment(doctor, timezone.now() + timedelta(hours=1, minutes=30))
    response = client_for(Role.NURSE).get(
        reverse("scheduling:queue", args=[doctor.schedule.department_id])
    )
    body = response.content.decode()
    assert arrived.patient.full_name in body and "Checked in" in body
    assert booked.patient.full_name not in body
