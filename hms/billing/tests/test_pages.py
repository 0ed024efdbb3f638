"""The billing pages: what each role sees, the forms' rules, the PDFs, the portal (own only)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from hms.billing import services
from hms.billing.models import Invoice, InvoiceStatus, Payment
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(clerk, patient, charge_for):
    charge_for(patient, "120.00", tax_rate=Decimal("10"), description="Physiotherapy")
    draft = Invoice.objects.get(patient=patient)
    return services.invoice_issue(actor=clerk, invoice=draft)


def test_the_invoice_page_shows_lines_taxes_totals_and_balance(client_for, issued):
    page = client_for(Role.BILLING).get(reverse("billing:invoice", args=[issued.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("Physiotherapy", issued.number, "132.00 GBP", "12.00", issued.patient.mrn_display):
        assert text in html
    assert AuditEvent.objects.filter(action="billing.invoice_view", object_id=str(issued.pk))


def test_the_invoice_pdf_is_a_pdf(client_for, issued):
    response = client_for(Role.BILLING).get(reverse("billing:invoice-pdf", args=[issued.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_clerk_takes_a_part_payment_and_the_balance_drops(client_for, issued):
    client = client_for(Role.BILLING)
    url = reverse("billing:payment-add", args=[issued.pk])
    response = client.post(url, {"amount": "32.00", "method": "card", "reference": "slip 1"})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.PARTIALLY_PAID
    html = client.get(reverse("billing:invoice", args=[issued.pk])).content.decode()
    assert "100.00 GBP" in html  # the balance
    receipt = client.get(reverse("billing:receipt-pdf", args=[Payment.objects.get().pk]))
    assert receipt.content.startswith(b"%PDF")


def test_a_payment_form_with_junk_is_sent_back_with_errors_not_a_500(client_for, issued):
    client = client_for(Role.BILLING)
    url = reverse("billing:payment-add", args=[issued.pk])
    for data in ({"amount": "-5", "method": "cash"}, {"amount": "x", "method": "cash"},
                 {"amount": "5", "method": "credit"}, {}):  # fmt: skip
        assert client.post(url, data).status_code == 400
    assert not Payment.objects.exists()


def test_voiding_a_charge_needs_a_reason(client_for, patient, charge_for):
    charge = charge_for(patient, "9.00")
    client = client_for(Role.BILLING)
    url = reverse("billing:charge-void", args=[charge.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Not given"}).status_code == 302
    charge.refresh_from_db()
    assert charge.status == "void"


def test_staff_add_a_manual_charge_from_the_account(client_for, patient):
    client = client_for(Role.BILLING)
    response = client.post(
        reverse("billing:charge-add", args=[patient.pk]),
        {"description": "Bed-day, ward 3", "kind": "bed_day", "unit_price": "250",
         "quantity": "2", "tax_rate": "0", "discount": "50"},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(reverse("billing:account", args=[patient.pk])).content.decode()
    assert "Bed-day, ward 3" in page and "450.00" in page


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST, Role.PATIENT])
def test_clinicians_and_others_see_no_financial_data(client_for, role, issued):
    client = client_for(role)
    for url in (
        reverse("billing:dashboard"),
        reverse("billing:invoice", args=[issued.pk]),
        reverse("billing:account", args=[issued.patient_id]),
        reverse("billing:report", args=["patients"]),
    ):
        assert client.get(url).status_code == 403, url
    chart = client.get(reverse("patients:chart", args=[issued.patient_id]))
    assert "Open the account" not in chart.content.decode()


def test_the_chart_shows_billing_staff_the_balance(client_for, issued):
    chart = client_for(Role.BILLING).get(reverse("patients:chart", args=[issued.patient_id]))
    assert "132.00 GBP" in chart.content.decode()


def test_a_patient_sees_and_downloads_only_their_own_invoices(client_for, clerk, charge_for):
    mine, theirs = PortalPatientFactory(), PortalPatientFactory()
    invoices = {}
    for who in (mine, theirs):
        charge_for(who, "40")
        invoices[who] = services.invoice_issue(
            actor=clerk, invoice=Invoice.objects.get(patient=who)
        )
    payment = services.payment_take(actor=clerk, invoice=invoices[mine], amount="15",
                                    method="cash")  # fmt: skip
    client = client_for(user=mine.user)
    page = client.get(reverse("billing:portal-invoices")).content.decode()
    assert invoices[mine].number in page and invoices[theirs].number not in page
    assert "25.00 GBP" in page
    pdf = client.get(reverse("billing:portal-invoice-pdf", args=[invoices[mine].pk]))
    assert pdf.content.startswith(b"%PDF")
    assert client.get(reverse("billing:portal-receipt-pdf", args=[payment.pk])).status_code == 200
    for url in (
        reverse("billing:portal-invoice", args=[invoices[theirs].pk]),
        reverse("billing:portal-invoice-pdf", args=[invoices[theirs].pk]),
    ):
        assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(action="billing.portal_invoice_pdf",
                                     object_id=str(invoices[mine].pk)).exists()  # fmt: skip
    assert AuditEvent.objects.filter(action="billing.portal_invoice_view_denied").exists()


@pytest.mark.parametrize("key", ["aging", "invoices", "patients", "cash", "revenue"])
def test_each_report_shows_and_exports_csv(client_for, issued, key):
    client = client_for(Role.BILLING)
    services.payment_take(actor=client.user, invoice=issued, amount="2", method="cash")
    url = reverse("billing:report", args=[key])
    assert client.get(url).status_code == 200
    csv = client.get(url, {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[0].startswith(
        {"aging": "bucket", "invoices": "number", "patients": "patient", "cash": "cashier",
         "revenue": "department"}[key]
    )  # fmt: skip


def test_the_aging_report_puts_the_balance_in_its_bucket(client_for, issued):
    from datetime import timedelta

    from django.utils import timezone

    Invoice.objects.filter(pk=issued.pk).update(issued_at=timezone.now() - timedelta(days=45))
    rows = client_for(Role.BILLING).get(
        reverse("billing:report", args=["aging"]), {"format": "csv"}
    ).content.decode().splitlines()  # fmt: skip
    assert rows[2] == "31–60,1,132.00"


def test_the_dashboard_draws_its_chart_inline(client_for, issued):
    html = client_for(Role.ADMIN).get(reverse("billing:dashboard")).content.decode()
    assert "<svg" in html and "132.00 GBP" in html


def test_the_account_and_invoice_list_run_the_same_queries_for_1_or_6_invoices(
    client_for, clerk, patient, charge_for
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(Role.BILLING)

    def count(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add_invoice():
        charge_for(patient, "10")
        invoice = services.invoice_issue(actor=clerk,
                                         invoice=Invoice.objects.get(patient=patient,
                                                                     status="draft"))  # fmt: skip
        services.payment_take(actor=clerk, invoice=invoice, amount="3", method="cash")

    add_invoice()
    urls = [reverse("billing:account", args=[patient.pk]), reverse("billing:invoice-list")]
    client.get(urls[0])  # the session's first writes
    before = [count(url) for url in urls]
    for _ in range(5):
        add_invoice()
    assert [count(url) for url in urls] == before
