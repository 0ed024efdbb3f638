"""Issue 4's journey in a real browser: a patient finds a doctor in the portal, books a slot,
moves it to another time, and cancels it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hms.accounts.tests.factories import TEST_PASSWORD
from hms.scheduling.models import Appointment, AppointmentStatus, ScheduleException
from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.e2e


def test_a_patient_books_reschedules_and_cancels_an_appointment_in_the_portal(page, sign_in):
    schedule = weekly_schedule()
    doctor = schedule.practitioner
    # Nothing bookable in the next day, so the cancellation cutoff never gets in the way.
    now = timezone.now()
    ScheduleException.objects.create(
        schedule=schedule, kind="leave", start=now - timedelta(hours=1), end=now + timedelta(days=1)
    )
    me = PortalPatientFactory(user__given_name="Amara")

    sign_in(page, me.user.email, TEST_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    expect(page.get_by_role("heading", name="My appointments")).to_be_visible()
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()

    # Find the doctor by department and name, and book the first free slot shown.
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Department").select_option(label=schedule.department.name)
    page.get_by_label("Name").fill(doctor.family_name)
    page.get_by_role("button", name="Search").click()
    card = page.locator(".doctor-card", has_text=doctor.full_name)
    card.locator("a.slot").first.click()
    page.get_by_role("button", name="Continue").click()  # what the visit is for: optional here
    expect(page.locator(".booking-summary")).to_contain_text(doctor.full_name)
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_text(f"Booked with {doctor.full_name}")).to_be_visible()
    expect(page.locator("#upcoming .appointment")).to_have_count(1)
    booked = Appointment.objects.get(patient=me)
    assert booked.status == AppointmentStatus.BOOKED
    original_start = booked.start

    # Move it to another free time.
    page.get_by_role("link", name="Reschedule").click()
    expect(page.get_by_text("Choose a new time for your appointment")).to_be_visible()
    page.locator("button.slot").nth(2).click()
    expect(page.get_by_text(re.compile(r"^\s*Moved to"))).to_be_visible()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    assert booked.start > original_start
    moved_start = booked.start

    # Cancel it (the browser asks for confirmation first).
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#upcoming").get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Your appointment was cancelled.")).to_be_visible()
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED
    assert booked.start == moved_start
