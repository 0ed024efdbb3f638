"""Scheduling input at the edges answers a 400 or a page, never a 500."""

import pytest
from django.urls import reverse

from hms.core.permissions import Role
from hms.scheduling.models import WorkingHours
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db
FAR_DAYS = ["9999-12-31", "0001-01-01"]


@pytest.mark.parametrize("day", FAR_DAYS)
def test_slots_from_the_ends_of_the_calendar_are_a_400_naming_the_field(client_for, day):
    response = client_for(Role.RECEPTIONIST).get("/api/v1/slots/", {"start": day})
    assert response.status_code == 400
    assert "between" in response.json()["error"]["fields"]["start"]


@pytest.mark.parametrize("day", FAR_DAYS)
def test_the_staff_calendar_on_a_far_day_shows_today_instead(client_for, doctor, day):
    client = client_for(Role.RECEPTIONIST)
    for view in ("day", "week"):
        response = client.get(
            reverse("scheduling:calendar"), {"practitioner": doctor.pk, "day": day, "view": view}
        )
        assert response.status_code == 200


@pytest.mark.parametrize("day", FAR_DAYS)
def test_a_doctors_portal_page_on_a_far_day_shows_the_coming_week(client_for, doctor, day):
    client = client_for(user=PortalPatientFactory().user)
    response = client.get(reverse("scheduling:portal-doctor", args=[doctor.pk]), {"day": day})
    assert response.status_code == 200


def test_working_hours_without_slot_minutes_take_the_default_length(client_for, doctor):
    response = client_for(Role.ADMIN).put(
        f"/api/v1/schedules/{doctor.schedule.pk}/working-hours/",
        {"hours": [{"weekday": 0, "start_time": "09:00", "end_time": "12:00"}]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert WorkingHours.objects.get(schedule=doctor.schedule).slot_minutes == 15


def test_working_hours_with_too_short_slots_are_a_400_naming_the_field(client_for, doctor):
    response = client_for(Role.ADMIN).put(
        f"/api/v1/schedules/{doctor.schedule.pk}/working-hours/",
        {"hours": [{"weekday": 0, "start_time": "09:00", "end_time": "12:00", "slot_minutes": 4}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["hours"]
