"""Properties of the ledger, for any sequence of charges (with discounts and tax), payments,
refunds and credit notes (Hypothesis generates the sequences; each runs in a transaction that
is rolled back):

- an invoice's total is the sum of its lines;
- its balance is total - payments + refunds - credit notes, as a clerk's own running tally of
  what was done says (an overpayment moves to the patient's credit);
- no payment is lost: money taken - money refunded = what the invoices hold + the credit;
- a refused operation writes nothing.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hms.billing import services
from hms.billing.models import Invoice, InvoiceStatus, Payment
from hms.billing.selectors import invoice_money, patient_credit
from hms.core.errors import DomainError

ZERO = Decimal("0.00")
D = Decimal
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2)
charges = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0"), max_value=Decimal("300"), places=3),  # unit price
        st.sampled_from([Decimal("1"), Decimal("2"), Decimal("0.5"), Decimal("3.333")]),
        st.sampled_from([Decimal("0"), Decimal("5"), Decimal("12.5"), Decimal("20")]),  # tax
        st.integers(min_value=0, max_value=100),  # discount, % of the line
    ),
    min_size=1,
    max_size=4,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), amounts, st.sampled_from(["cash", "card", "bank_transfer"])),
        st.tuples(st.just("refund"), st.integers(min_value=0, max_value=5), amounts),
        st.tuples(st.just("credit_note"), amounts),
    ),
    max_size=8,
)


def _ledger_rows() -> int:
    return Payment.objects.count()


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=charges, ops=operations, next_total=amounts)
# Sequences a billing office meets every day, always tried: an overpayment kept as credit and
# partly refunded; a credit note on a paid invoice; a refund that re-opens a paid invoice.
@example(
    lines=[(D("100"), D("1"), D("0"), 0)],
    ops=[("pay", D("130"), "cash"), ("refund", 1, D("10")), ("credit_note", D("30"))],
    next_total=D("45"),
)
@example(
    lines=[(D("80"), D("1"), D("20"), 10)],
    ops=[("pay", D("86.40"), "card"), ("refund", 0, D("6.40")), ("credit_note", D("50")),
         ("pay", D("1"), "cash"), ("refund", 0, D("90"))],
    next_total=D("12.34"),
)  # fmt: skip
def test_any_sequence_keeps_the_ledger_whole(clerk, patient, lines, ops, next_total):
    with transaction.atomic():
        _run(clerk, patient, lines, ops, next_total)
        transaction.set_rollback(True)


def _run(clerk, patient, lines, ops, next_total):
    for price, quantity, tax, discount_pct in lines:
        gross = (price.quantize(Decimal("0.01")) * quantity).quantize(Decimal("0.01"))
        discount = (gross * discount_pct / 100).quantize(Decimal("0.01"))
        services.charge_add(actor=clerk, patient=patient, description="Care", unit_price=price,
                            quantity=quantity, tax_rate=tax, discount=discount)  # fmt: skip
    invoice = Invoice.objects.get(patient=patient, status=InvoiceStatus.DRAFT)
    assert invoice.total == sum(line.total for line in invoice.lines.all())
    invoice = services.invoice_issue(actor=clerk, invoice=invoice)
    total = invoice.total
    assert total == sum(line.total for line in invoice.lines.all())

    balance, credit, credited = total, ZERO, ZERO
    taken, refunded = ZERO, ZERO
    refundable: list[list] = []  # [payment, what is left of it]
    for op in ops:
        before = _ledger_rows()
        try:
            if op[0] == "pay":
                _, amount, method = op
                payment = services.payment_take(actor=clerk, invoice=invoice, amount=amount,
                                                method=method)  # fmt: skip
                assert balance > 0, "a settled invoice took a payment"
                applied = min(amount, balance)
                balance -= applied
                credit += amount - applied
                taken += amount
                for entry in Payment.objects.filter(receipt_number=payment.receipt_number):
                    refundable.append([entry, entry.amount])
            elif op[0] == "refund":
                _, index, amount = op
                if not refundable:
                    continue
                entry, left = refundable[index % len(refundable)]
                services.payment_refund(actor=clerk, payment=entry, amount=amount, reason="Test")
                assert amount <= left, "refunded more than was paid"
                refundable[index % len(refundable)][1] -= amount
                if entry.invoice_id:
                    balance += amount
                else:
                    assert amount <= credit, "refunded credit that was spent"
                    credit -= amount
                refunded += amount
            else:
                _, amount = op
                services.credit_note_create(actor=clerk, invoice=invoice, amount=amount,
                                            reason="Correction")  # fmt: skip
                assert amount <= total - credited, "credited more than was invoiced"
                credited += amount
                balance -= amount
                if balance < 0:
                    credit, balance = credit - balance, ZERO
        except DomainError:
            assert _ledger_rows() == before, "a refused operation wrote to the ledger"
            continue
        figures = invoice_money(invoice)
        assert (
            figures.balance == figures.total - figures.payments + figures.refunds - figures.credits
        )
        assert figures.balance == balance
        assert figures.credits == credited
        assert patient_credit(patient.pk) == credit
        # No payment lost: every unit of money taken is on the invoice, in credit or refunded.
        assert taken - refunded == figures.paid + patient_credit(patient.pk)
        invoice.refresh_from_db()
        expected = (
            InvoiceStatus.PAID if balance <= 0
            else InvoiceStatus.PARTIALLY_PAID if figures.paid > 0 or credited > 0
            else InvoiceStatus.ISSUED
        )  # fmt: skip
        assert invoice.status == expected

    # The credit pays the next invoice, as far as it goes.
    services.charge_add(actor=clerk, patient=patient, description="Next", unit_price=next_total)
    nxt = services.invoice_issue(
        actor=clerk, invoice=Invoice.objects.get(patient=patient, status=InvoiceStatus.DRAFT)
    )
    used = min(credit, next_total)
    assert invoice_money(nxt).balance == next_total - used
    assert patient_credit(patient.pk) == credit - used
