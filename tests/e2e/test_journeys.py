"""Issue 8's journeys in a real browser, at desktop width and on a 390 px phone: reception books
from the chart and takes a walk-in with the patient picker, the doctor goes from the queue into
the encounter in one click, and a patient chooses a service and confirms a summary.
Screenshots of each step land in var/e2e-artifacts/journeys/; no page breaks the CSP."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from hms.clinical.models import Encounter
from hms.core.permissions import Role
from hms.scheduling.models import Appointment, AppointmentStatus, BookingKind
from hms.scheduling.tests.factories import (
    PatientFactory,
    PortalPatientFactory,
    ServiceFactory,
    weekly_schedule,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def clinic():
    schedule = weekly_schedule(start=time(0, 0), end=time(23, 45))
    ServiceFactory(department=schedule.department, name="First visit", duration_minutes=15)
    return schedule


@pytest.fixture
def shoot(artifacts_dir):
    folder = artifacts_dir / "journeys"
    folder.mkdir(exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        assert width <= viewport, f"{name}: the page is {width}px wide on a {viewport}px screen"

    return take


@pytest.fixture
def csp_violations(page):
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text
        else None,
    )  # fmt: skip
    return seen


def test_reception_books_from_the_chart_and_takes_a_walk_in_with_the_picker(
    page, login_as, make_user, clinic, shoot, csp_violations
):
    patient = PatientFactory(given_name="Odile", family_name="Marchetti")
    walker = PatientFactory(given_name="Tobias", family_name="Eberhardt")
    login_as(page, make_user(Role.RECEPTIONIST))

    # From the chart: "Book appointment" opens the calendar for this patient.
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Book appointment").click()
    expect(page.get_by_text("Booking for")).to_contain_text(patient.mrn_display)
    page.get_by_label("Practitioner").select_option(str(clinic.practitioner_id))
    page.get_by_label("View").select_option("week")  # late in the day, today may be full
    page.locator("a.link-success").first.click()
    expect(page.get_by_label("Patient")).to_have_value(patient.mrn_display)
    shoot(page, "reception-book-desktop")
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text(f"Booked {patient.full_name}.")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"MRN {patient.mrn_display}")
    assert Appointment.objects.get(patient=patient).status == AppointmentStatus.BOOKED

    # A walk-in, on a phone: the doctor, then the patient found by name in the picker.
    page.set_viewport_size(PHONE)
    page.goto("/scheduling/appointments/")
    page.get_by_role("link", name="Walk-in").click()
    page.get_by_label("Doctor").select_option(str(clinic.practitioner_id))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Patient").fill("Eberh")
    page.locator("[data-pick]", has_text="EBERHARDT").click()
    expect(page.get_by_label("Patient")).to_have_value(walker.mrn_display)
    expect(page.get_by_label("Kind")).not_to_contain_text("Urgent")
    shoot(page, "reception-walk-in-phone")
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("Walk-in booked.")).to_be_visible()
    walk_in = Appointment.objects.get(patient=walker)
    assert walk_in.kind == BookingKind.WALK_IN and walk_in.status == AppointmentStatus.CHECKED_IN
    assert csp_violations == []


def test_the_doctor_goes_from_the_menu_queue_into_the_encounter(
    page, login_as, make_user, clinic, shoot, csp_violations
):
    from django.utils import timezone

    from hms.scheduling import services

    arrived = PatientFactory(given_name="Ilse", family_name="Brandauer")
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=arrived, practitioner=clinic.practitioner,
        start=timezone.now(), kind=BookingKind.WALK_IN,
    )  # fmt: skip
    login_as(page, clinic.practitioner)

    page.goto("/dashboard/")
    expect(page.locator("#dashboard-widgets")).to_contain_text("Queues")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(page.get_by_role("heading", name=re.compile("^Queue"))).to_contain_text(
        clinic.department.name
    )
    shoot(page, "doctor-queue-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    shoot(page, "doctor-queue-phone")
    page.get_by_role("link", name="Open encounter").click()
    encounter = Encounter.objects.get(patient=arrived)
    expect(page).to_have_url(re.compile(f"/clinical/encounters/{encounter.pk}/$"))
    expect(page.locator("h1")).to_contain_text("BRANDAUER")
    shoot(page, "doctor-encounter-phone")
    assert csp_violations == []


def test_a_patient_chooses_the_service_and_confirms_before_booking(
    page, login_as, clinic, shoot, csp_violations
):
    me = PortalPatientFactory(given_name="Amara")
    doctor = clinic.practitioner
    login_as(page, me.user)
    page.set_viewport_size(PHONE)

    page.goto("/")
    page.get_by_role("link", name="Our doctors").click()
    expect(page.get_by_role("heading", name="Departments and doctors")).to_be_visible()
    page.goto("/scheduling/my/find/")
    page.locator(".doctor-card", has_text=doctor.full_name).locator("a.slot").first.click()
    expect(page.get_by_role("heading", name="About your visit")).to_be_visible()
    assert not Appointment.objects.filter(patient=me).exists()  # a tap on a time books nothing
    page.get_by_label("First visit (15 min)").check()
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".booking-summary")
    for shown in (doctor.full_name, "Clinic 1", "15 minutes", "Photo ID"):
        expect(summary).to_contain_text(shown)
    shoot(page, "portal-summary-phone")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text(f"Booked with {doctor.full_name}")).to_be_visible()
    booked = Appointment.objects.get(patient=me)
    assert booked.service.name == "First visit"

    page.goto("/patients/me/")
    shoot(page, "portal-record-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=30_000)
    assert csp_violations == []
