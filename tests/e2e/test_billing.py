"""Issue 10's journey in a real browser: the doctor completes the visit, the clerk finds the
charge once on the patient's account, issues the invoice, takes part of the money (on a
phone), checks the balance and the PDF, takes the rest: paid. Then the patient sees the paid
invoice in the portal. Screenshots land in var/e2e-artifacts/billing/; no page breaks the CSP."""

import re
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hms.billing.models import Charge, Invoice, InvoiceStatus, PriceItem, PriceKind
from hms.clinical.icd10 import icd10_lookup
from hms.clinical.models import Encounter
from hms.core.permissions import Role
from hms.scheduling import services as scheduling
from hms.scheduling.tests.factories import PortalPatientFactory, ServiceFactory, weekly_schedule
from tests.test_billing_journey import pdf_titles

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shoot(artifacts_dir):
    folder = artifacts_dir / "billing"
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
    page.on("dialog", lambda dialog: dialog.accept())
    return seen


def test_a_completed_visit_is_charged_once_invoiced_and_paid_in_two_parts(
    page, login_as, make_user, shoot, csp_violations
):
    schedule = weekly_schedule(start=time(0, 0), end=time(23, 45))
    service = ServiceFactory(department=schedule.department, name="First consultation")
    PriceItem.objects.create(code="CONS-E2E", name="First consultation", service=service,
                             kind=PriceKind.CONSULTATION, unit_price=Decimal("85.00"),
                             valid_from=timezone.localdate() - timedelta(days=1))  # fmt: skip
    patient = PortalPatientFactory(given_name="Rosalind", family_name="Achterberg")
    appointment = scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=patient,
        practitioner=schedule.practitioner,
        start=timezone.now(),
        service=service,
        kind="walk_in",
    )  # fmt: skip  (a walk-in is booked and checked in at once)
    encounter = Encounter.objects.get(appointment_id=str(appointment.pk))

    # The doctor consults and completes the visit. (The encounter page builds the ICD-10 index
    # in the background on first use; built here first, it does not slow the page down.)
    icd10_lookup("J45.909")
    login_as(page, schedule.practitioner)
    page.goto(f"/clinical/encounters/{encounter.pk}/", timeout=60_000)
    page.get_by_role("button", name="Start consultation").click()
    page.get_by_role("button", name="Close encounter").click()
    expect(page.locator("main")).to_contain_text("Encounter closed")
    page.context.clear_cookies()

    # The clerk finds the charge, once, on the patient's account.
    login_as(page, make_user(Role.BILLING))
    page.goto("/dashboard/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Open the account").click()
    expect(page.locator("#charges .charge")).to_have_count(1)
    expect(page.locator("#charges")).to_contain_text("First consultation")
    shoot(page, "account-desktop")
    page.locator("#invoices").get_by_role("link", name="Draft").click()
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.locator("#invoice-status")).to_have_text("Issued")
    number = Invoice.objects.get(patient=patient).number
    expect(page.locator("h1")).to_contain_text(number)

    # Part of the money, on a phone.
    page.set_viewport_size(PHONE)
    page.locator("#take-payment").click()
    page.get_by_label("Amount").fill("35.00")
    page.get_by_label("Method").select_option("cash")
    shoot(page, "payment-phone")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#invoice-status")).to_have_text("Partially paid")
    expect(page.locator("#invoice-balance")).to_have_text("50.00 GBP")
    expect(page.locator("#invoice-paid")).to_have_text("35.00 GBP")
    shoot(page, "invoice-phone")
    pdf = page.request.get(page.locator("#invoice-pdf").get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"Invoice {number} balance 50.00 GBP status partially_paid" in pdf_titles(pdf.body())

    # The rest: paid.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#take-payment").click()
    page.get_by_label("Amount").fill("50.00")
    page.get_by_label("Method").select_option("card")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    expect(page.locator("#invoice-balance")).to_have_text("0.00 GBP")
    assert Charge.objects.filter(patient=patient).count() == 1
    assert Invoice.objects.get(patient=patient).status == InvoiceStatus.PAID
    page.context.clear_cookies()

    # The patient sees the paid invoice and its receipts in the portal.
    login_as(page, patient.user)
    page.set_viewport_size(PHONE)
    page.goto("/dashboard/")
    page.locator("a.go-to-card", has_text="My bills").click()
    expect(page.locator("#portal-invoices")).to_contain_text(number)
    expect(page.locator("#portal-balance")).to_have_text("0.00 GBP")
    shoot(page, "portal-bills-phone")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    expect(page).to_have_url(re.compile("/billing/my/invoices/"))
    assert csp_violations == []
