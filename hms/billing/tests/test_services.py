"""The billing office's rules, one test each."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from hms.billing import services
from hms.billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    PaymentKind,
    PaymentMethod,
    PriceKind,
)
from hms.billing.selectors import invoice_money, patient_balance, patient_credit
from hms.billing.tests.factories import PriceItemFactory
from hms.core.errors import Conflict, DomainError

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = timezone.localdate().year


def test_charges_land_on_the_patients_one_draft_with_rounded_lines(clerk, patient, charge_for):
    first = charge_for(patient, "10.005", quantity=D("3"), tax_rate=D("20"))
    second = charge_for(patient, "19.99", discount=D("4.99"))
    assert first.invoice == second.invoice
    invoice = first.invoice
    assert invoice.status == InvoiceStatus.DRAFT
    line = first.line
    # 3 x 10.01 (half-up) = 30.03; tax 20 % = 6.006 -> 6.01
    assert (line.unit_price, line.net, line.tax, line.total) == (
        D("10.01"),
        D("30.03"),
        D("6.01"),
        D("36.04"),
    )
    assert second.line.total == D("15.00")
    invoice.refresh_from_db()
    assert invoice.total == D("51.04") == sum(line.total for line in invoice.lines.all())


def test_the_database_allows_one_draft_per_patient(patient, charge_for):
    charge_for(patient, "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(patient=patient, currency="GBP")


def test_issuing_numbers_invoices_consecutively_per_year(clerk, charge_for):
    from hms.patients.tests.factories import PatientFactory

    numbers = []
    for _ in range(3):
        charge = charge_for(PatientFactory(), "5")
        numbers.append(services.invoice_issue(actor=clerk, invoice=charge.invoice).number)
    assert numbers == [f"INV-{YEAR}-{n:06d}" for n in (1, 2, 3)]


def test_an_empty_draft_or_an_issued_invoice_cannot_be_issued(clerk, patient, charge_for):
    charge = charge_for(patient, "5")
    services.charge_void(actor=clerk, charge=charge, reason="Entered twice")
    with pytest.raises(DomainError, match="no lines"):
        services.invoice_issue(actor=clerk, invoice=charge.invoice)
    charge_for(patient, "6")
    draft = Invoice.objects.get(patient=patient, status=InvoiceStatus.DRAFT)
    services.invoice_issue(actor=clerk, invoice=draft)
    with pytest.raises(Conflict):
        services.invoice_issue(actor=clerk, invoice=draft)


def test_a_failed_issue_gives_its_number_back(clerk, patient, charge_for, monkeypatch):
    invoice = charge_for(patient, "5").invoice

    def boom(*args, **kwargs):
        raise RuntimeError("crash after numbering")

    monkeypatch.setattr(services, "_apply_credit", boom)
    with pytest.raises(RuntimeError):
        services.invoice_issue(actor=clerk, invoice=invoice)
    monkeypatch.undo()
    invoice.refresh_from_db()
    assert invoice.number is None and invoice.status == InvoiceStatus.DRAFT
    assert services.invoice_issue(actor=clerk, invoice=invoice).number == f"INV-{YEAR}-000001"


def test_a_price_change_never_alters_an_issued_invoice(clerk, patient):
    item = PriceItemFactory(unit_price=D("80.00"), valid_from=date(2020, 1, 1))
    charge = services.charge_add(actor=clerk, patient=patient, price_item=item)
    invoice = services.invoice_issue(actor=clerk, invoice=charge.invoice)
    new = services.price_item_change_price(
        actor=clerk, item=item, unit_price=D("95.00"), valid_from=timezone.localdate()
    )
    item.refresh_from_db()
    assert item.valid_to == timezone.localdate() - timedelta(days=1)
    assert new.unit_price == D("95.00")
    invoice.refresh_from_db()
    assert invoice.total == D("80.00")
    assert invoice.lines.get().unit_price == D("80.00")


def test_a_charge_on_an_issued_invoice_is_not_voided_but_credited(clerk, patient, charge_for):
    charge = charge_for(patient, "40")
    invoice = services.invoice_issue(actor=clerk, invoice=charge.invoice)
    with pytest.raises(Conflict, match="credit note"):
        services.charge_void(actor=clerk, charge=charge, reason="Wrong")
    note = services.credit_note_create(actor=clerk, invoice=invoice, amount="15", reason="Wrong")
    assert note.number == f"CN-{YEAR}-000001"
    assert invoice_money(invoice).balance == D("25.00")
    with pytest.raises(DomainError):
        services.credit_note_create(actor=clerk, invoice=invoice, amount="25.01", reason="x")


def test_voiding_a_charge_needs_a_reason_and_removes_its_draft_line(clerk, patient, charge_for):
    charge = charge_for(patient, "30")
    with pytest.raises(DomainError):
        services.charge_void(actor=clerk, charge=charge, reason="  ")
    voided = services.charge_void(actor=clerk, charge=charge, reason="Not done")
    assert voided.status == ChargeStatus.VOID and voided.void_reason == "Not done"
    draft = Invoice.objects.get(patient=patient)
    assert draft.total == 0 and not draft.lines.exists()


def test_part_payment_then_the_rest_pays_the_invoice(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "100").invoice)
    first = services.payment_take(actor=clerk, invoice=invoice, amount="30", method="cash")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert first.receipt_number == f"RCPT-{YEAR}-000001"
    services.payment_take(actor=clerk, invoice=invoice, amount="70.00", method="card")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice_money(invoice).balance == 0


def test_an_overpayment_becomes_credit_applied_to_the_next_invoice(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "60").invoice)
    services.payment_take(actor=clerk, invoice=invoice, amount="100", method="cash")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert patient_credit(patient.pk) == D("40.00")
    nxt = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "25").invoice)
    assert nxt.status == InvoiceStatus.PAID
    assert patient_credit(patient.pk) == D("15.00")
    applied = nxt.payments.get()
    assert (applied.method, applied.amount) == (PaymentMethod.CREDIT, D("25.00"))


def test_a_refund_is_a_reversing_entry_that_reopens_the_balance(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "50").invoice)
    payment = services.payment_take(actor=clerk, invoice=invoice, amount="50", method="card")
    refund = services.payment_refund(actor=clerk, payment=payment, amount="20", reason="Error")
    assert refund.kind == PaymentKind.REFUND and refund.refunds == payment
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice_money(invoice).balance == D("20.00")
    with pytest.raises(DomainError):
        services.payment_refund(actor=clerk, payment=payment, amount="30.01", reason="x")
    assert payment.refunded_by.count() == 1


def test_a_credit_note_on_a_paid_invoice_becomes_credit(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "80").invoice)
    services.payment_take(actor=clerk, invoice=invoice, amount="80", method="cash")
    services.credit_note_create(actor=clerk, invoice=invoice, amount="30", reason="Discount")
    assert invoice_money(invoice).balance == 0
    assert patient_credit(patient.pk) == D("30.00")
    assert patient_balance(patient.pk) == (D("0.00"), D("30.00"))


def test_a_paid_invoice_cannot_be_voided_an_unpaid_one_can(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "10").invoice)
    services.payment_take(actor=clerk, invoice=invoice, amount="5", method="cash")
    with pytest.raises(Conflict):
        services.invoice_void(actor=clerk, invoice=invoice, reason="Mistake")
    other = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "12").invoice)
    voided = services.invoice_void(actor=clerk, invoice=other, reason="Wrong patient")
    assert voided.status == InvoiceStatus.VOID and voided.number.startswith("INV-")
    assert not Charge.objects.filter(invoice=other, status=ChargeStatus.POSTED).exists()


def test_a_posted_source_is_charged_once(clerk, patient):
    item = PriceItemFactory(kind=PriceKind.LAB, lab_test_code="718-7")
    a = services.charge_post_for_source(
        actor=clerk, source_key="lab_order:1", patient_id=patient.pk, price_item=item
    )
    b = services.charge_post_for_source(
        actor=clerk, source_key="lab_order:1", patient_id=patient.pk, price_item=item
    )
    assert a == b and Charge.objects.count() == 1


def test_insurance_splits_the_invoice_and_a_rejection_rebills_the_patient(clerk, patient):
    from hms.billing.selectors import patient_due

    payer = services.payer_create(actor=clerk, name="Demo Health")
    services.coverage_add(
        actor=clerk, patient=patient, payer=payer, policy_number="P-1",
        copay_kind="percent", copay_value="20", valid_from=date(2020, 1, 1),
    )  # fmt: skip
    item = PriceItemFactory(unit_price=D("200.00"))
    invoice = services.invoice_issue(
        actor=clerk,
        invoice=services.charge_add(actor=clerk, patient=patient, price_item=item).invoice,
    )
    assert invoice.payer_share == D("160.00")
    assert patient_due(invoice) == D("40.00")
    claim = invoice.claim
    services.claim_submit(actor=clerk, claim=claim)
    with pytest.raises(DomainError):
        services.claim_decide(actor=clerk, claim=claim, approved_amount="0", reason="")
    services.claim_decide(actor=clerk, claim=claim, approved_amount="0", reason="Not covered")
    invoice.refresh_from_db()
    assert invoice.payer_share == 0 and patient_due(invoice) == D("200.00")


def test_a_partly_approved_claim_is_paid_by_the_insurer(clerk, patient):
    payer = services.payer_create(actor=clerk, name="Acme Insurance")
    services.coverage_add(
        actor=clerk, patient=patient, payer=payer, policy_number="A-9",
        copay_kind="fixed", copay_value="10", valid_from=date(2020, 1, 1),
    )  # fmt: skip
    item = PriceItemFactory(unit_price=D("110.00"))
    charge = services.charge_add(actor=clerk, patient=patient, price_item=item)
    invoice = services.invoice_issue(actor=clerk, invoice=charge.invoice)
    claim = invoice.claim
    assert claim.amount_claimed == D("100.00")
    services.claim_submit(actor=clerk, claim=claim)
    services.claim_decide(actor=clerk, claim=claim, approved_amount="70", reason="Cap")
    services.claim_record_payment(actor=clerk, claim=claim, amount="70")
    services.payment_take(actor=clerk, invoice=invoice, amount="40", method="cash")
    invoice.refresh_from_db()
    claim.refresh_from_db()
    assert claim.status == "paid" and invoice.status == InvoiceStatus.PAID


def test_bad_amounts_are_refused_with_a_field_error(clerk, patient, charge_for):
    invoice = services.invoice_issue(actor=clerk, invoice=charge_for(patient, "10").invoice)
    for amount in ("-1", "0", "abc", "NaN", "1e30"):
        with pytest.raises(DomainError) as caught:
            services.payment_take(actor=clerk, invoice=invoice, amount=amount, method="cash")
        assert "amount" in caught.value.fields
    with pytest.raises(DomainError):
        services.payment_take(actor=clerk, invoice=invoice, amount="1", method="credit")
