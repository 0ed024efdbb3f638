"""A practitioner's calendar feed: its address is its only key, so it shows the least it can and
its fetches are recorded as the feed token's, never as the practitioner's."""

import pytest
from django.urls import reverse

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory
from hms.scheduling import services
from hms.scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(make_user, doctor):
    patient = PatientFactory(given_name="Zebedee", family_name="Quarrington")
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=patient,
        practitioner=doctor,
        start=at(2, 10),
        reason="Worried about a lump in the left breast",
    )
    return patient, reverse("scheduling:calendar-feed", args=[doctor.schedule.calendar_token])


def test_the_feed_shows_only_the_times_and_the_mrn(client, feed):
    patient, url = feed
    text = client.get(url).content.decode()
    assert f"SUMMARY:Patient {patient.mrn}" in text
    assert "DTSTART:" in text and "DTEND:" in text
    for private in ("lump", "Zebedee", "Quarrington", "DESCRIPTION", "LOCATION"):
        assert private not in text


def test_an_anonymous_fetch_is_recorded_as_the_feed_tokens_not_the_doctors(client, feed, doctor):
    client.get(feed[1])
    event = AuditEvent.objects.get(action="appointment.calendar_feed_view")
    assert event.actor is None and event.actor_email == ""
    assert event.details["via"] == "calendar feed token"
    assert event.details["practitioner"] == doctor.pk
    assert event.details["appointments"] == 1
