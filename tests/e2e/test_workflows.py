"""Issue 12's journey in a real browser: an administrator builds "WHEN appointment.booked IF
department is Cardiology THEN notify role nurse" without a programmer, a receptionist books a
cardiology appointment, and the nurse's bell shows the notification."""

from datetime import time

import pytest
from playwright.sync_api import expect

from hms.accounts.tests.factories import DepartmentFactory
from hms.core.models import Notification
from hms.core.permissions import Role
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule
from hms.workflows.models import Rule

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def test_an_admin_rule_notifies_the_nurse_of_a_cardiology_booking(page, login_as, make_user):
    cardiology = DepartmentFactory(name="Cardiology", slug="cardiology")
    clinic = weekly_schedule(department=cardiology, start=time(0, 0), end=time(23, 45))
    patient = PatientFactory(given_name="Odile", family_name="Marchetti")
    admin, nurse = make_user(Role.ADMIN), make_user(Role.NURSE)

    # The administrator builds the rule on a phone.
    page.set_viewport_size(PHONE)
    login_as(page, admin)
    page.goto("/workflows/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Cardiology bookings to nurses")
    page.get_by_label("WHEN this happens").select_option("appointment.booked")
    page.wait_for_load_state("networkidle")  # the builder offers the event's fields
    page.get_by_label("Condition 1: field").select_option("department_name")
    page.get_by_label("Condition 1: operator").select_option("eq")
    page.get_by_label("Condition 1: value").fill("Cardiology")
    page.get_by_label("Action 1").select_option("notify_role")
    page.locator(".action-row").first.get_by_label("Who").select_option("role:nurse")
    page.locator(".action-row").first.get_by_label("Title").fill(
        "New cardiology booking: {{ patient_name }}"
    )
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#messages")).to_contain_text("created")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the rule page is {width}px wide on a phone"
    rule = Rule.objects.get()
    assert rule.conditions == [{"field": "department_name", "op": "eq", "value": "Cardiology"}]

    # The receptionist books a cardiology appointment from the patient's chart.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    login_as(page, make_user(Role.RECEPTIONIST))
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Book appointment").click()
    page.get_by_label("Practitioner").select_option(str(clinic.practitioner_id))
    page.get_by_label("View").select_option("week")
    page.locator("a.link-success").first.click()
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text(f"Booked {patient.full_name}.")).to_be_visible()

    # The nurse's bell shows it, and the list has the notice.
    page.context.clear_cookies()
    login_as(page, nurse)
    page.goto("/dashboard/")
    expect(page.locator("#notification-count")).to_contain_text("1")
    page.locator("#notification-bell").click()
    expect(page.get_by_text(f"New cardiology booking: {patient.full_name}")).to_be_visible()
    assert Notification.objects.filter(user=nurse).count() == 1
