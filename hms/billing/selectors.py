"""Reads of billing: the ledger's figures (balance, paid, credit) and access-checked, audited
reads of a patient's account and invoices. Staff need BILLING_VIEW; a patient sees only their
own invoices (anyone else's is "not found"). Every read that shows a patient's bill leaves an
audit row."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum

from hms.billing import ledger
from hms.billing.models import (
    ZERO,
    Charge,
    ChargeStatus,
    Coverage,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
)
from hms.billing.reports import invoices_with_balance
from hms.core.audit import audit_record
from hms.core.errors import NotFound
from hms.core.permissions import Perm, user_has_perm
from hms.patients.models import Patient
from hms.patients.selectors import patient_access_refused, patient_get_for_user, patient_of_user

OWING_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)


def invoice_money(invoice: Invoice) -> ledger.InvoiceMoney:
    """What was paid, refunded and credited on the invoice (two queries)."""
    sums = {
        kind: total or ZERO
        for kind, total in Payment.objects.filter(invoice=invoice)
        .order_by()
        .values("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    }
    credits = invoice.credit_notes.aggregate(s=Sum("amount"))["s"] or ZERO
    return ledger.InvoiceMoney(
        total=ZERO if invoice.status == InvoiceStatus.VOID else invoice.total,
        payments=sums.get(PaymentKind.PAYMENT, ZERO),
        refunds=sums.get(PaymentKind.REFUND, ZERO),
        credits=credits,
    )


def _sum(queryset) -> Decimal:
    return queryset.aggregate(s=Sum("amount"))["s"] or ZERO


def patient_credit(patient_id) -> Decimal:
    """Money held on the patient's account: payments on account and refunds into credit, less
    credit applied to invoices and credit paid back."""
    rows = Payment.objects.filter(patient_id=patient_id)
    return (
        _sum(rows.filter(kind=PaymentKind.PAYMENT, invoice__isnull=True))
        + _sum(rows.filter(kind=PaymentKind.REFUND, method=PaymentMethod.CREDIT))
        - _sum(rows.filter(kind=PaymentKind.PAYMENT, method=PaymentMethod.CREDIT))
        - _sum(rows.filter(kind=PaymentKind.REFUND, invoice__isnull=True))
    )


def payer_outstanding(invoice: Invoice) -> Decimal:
    """The payer's share of the invoice not paid by the payer yet."""
    if invoice.payer_share <= 0:
        return ZERO
    paid = _sum(Payment.objects.filter(invoice=invoice, method=PaymentMethod.INSURER))
    return max(ZERO, invoice.payer_share - paid)


def patient_due(invoice: Invoice) -> Decimal:
    """What the patient still owes on the invoice: the balance less the payer's share still
    expected."""
    return max(ZERO, invoice_money(invoice).balance - payer_outstanding(invoice))


def patient_balance(patient_id) -> tuple[Decimal, Decimal]:
    """(what the patient owes on issued invoices, the patient's credit), in a fixed number of
    queries however many invoices the patient has."""
    owed = invoices_with_balance(
        Invoice.objects.filter(patient_id=patient_id, status__in=OWING_STATUSES)
    ).filter(balance__gt=0)
    return sum((i.balance for i in owed), ZERO), patient_credit(patient_id)


# --- Access-checked reads ----------------------------------------------------------------------


def may_see_invoice(user, invoice: Invoice) -> bool:
    if user_has_perm(user, Perm.BILLING_VIEW):
        return True
    if not user_has_perm(user, Perm.PORTAL_USE):
        return False
    own = patient_of_user(user)
    return own is not None and own.pk == invoice.patient_id


def invoice_get_for_user(*, user, invoice_id, action: str = "billing.invoice_view") -> Invoice:
    """The invoice if `user` may see it (billing staff, or the patient it bills); otherwise
    NotFound, so its existence does not leak. Audited either way."""
    try:
        invoice = Invoice.objects.select_related("patient").get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError, ValidationError):
        invoice = None
    if invoice is None or not may_see_invoice(user, invoice):
        audit_record(
            action=f"{action}_denied", actor=user, object_type="billing.invoice",
            object_id=str(invoice_id)[:64],
            patient=str(invoice.patient_id) if invoice is not None else "",
        )  # fmt: skip
        raise NotFound("No such invoice.")
    audit_record(action=action, actor=user, obj=invoice, patient=invoice.patient_id)
    return invoice


def payment_get_for_user(*, user, payment_id, action: str = "billing.receipt_view") -> Payment:
    try:
        payment = Payment.objects.select_related("patient", "invoice").get(pk=payment_id)
    except (Payment.DoesNotExist, ValueError, TypeError, ValidationError):
        payment = None
    allowed = payment is not None and (
        user_has_perm(user, Perm.BILLING_VIEW)
        or (
            user_has_perm(user, Perm.PORTAL_USE)
            and (own := patient_of_user(user)) is not None
            and own.pk == payment.patient_id
        )
    )
    if not allowed:
        audit_record(action=f"{action}_denied", actor=user, object_type="billing.payment",
                     object_id=str(payment_id)[:64])  # fmt: skip
        raise NotFound("No such receipt.")
    audit_record(action=action, actor=user, obj=payment, patient=payment.patient_id)
    return payment


@dataclass
class InvoiceView:
    invoice: Invoice
    lines: list
    payments: list
    credit_notes: list
    money: ledger.InvoiceMoney
    payer_outstanding: Decimal
    patient_due: Decimal
    claim: object = None
    coverage: Coverage | None = None


def invoice_view(invoice: Invoice) -> InvoiceView:
    """Everything the invoice page and PDF show (a fixed number of queries)."""
    figures = invoice_money(invoice)
    outstanding = payer_outstanding(invoice)
    return InvoiceView(
        invoice=invoice,
        lines=list(invoice.lines.all()),
        payments=list(invoice.payments.select_related("received_by").order_by("received_at")),
        credit_notes=list(invoice.credit_notes.all()),
        money=figures,
        payer_outstanding=outstanding,
        patient_due=max(ZERO, figures.balance - outstanding),
        claim=getattr(invoice, "claim", None),
        coverage=invoice.coverage,
    )


@dataclass
class Account:
    patient: Patient
    charges: list
    invoices: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    balance: Decimal = ZERO
    credit: Decimal = ZERO
    coverages: list = field(default_factory=list)


def _account(patient: Patient) -> Account:
    """The account page's data in a fixed number of queries (invoices carry their figures)."""
    invoices = list(
        invoices_with_balance(Invoice.objects.filter(patient=patient)).order_by("-created_at")[:100]
    )
    for invoice in invoices:
        invoice.figures = ledger.InvoiceMoney(
            total=ZERO if invoice.status == InvoiceStatus.VOID else invoice.total,
            payments=invoice.paid_in, refunds=invoice.refunded, credits=invoice.credited,
        )  # fmt: skip
    balance, credit = patient_balance(patient.pk)
    return Account(
        patient=patient,
        charges=list(Charge.objects.filter(patient=patient).select_related("invoice")[:200]),
        invoices=invoices,
        payments=list(
            Payment.objects.filter(patient=patient)
            .select_related("invoice", "received_by")
            .order_by("-received_at")[:200]
        ),
        balance=balance,
        credit=credit,
        coverages=list(Coverage.objects.filter(patient=patient).select_related("payer")),
    )


def patient_account(*, user, patient_id) -> Account:
    """A patient's billing account for billing staff: charges, invoices, payments, balance and
    credit. Audited."""
    if not user_has_perm(user, Perm.BILLING_VIEW):
        raise patient_access_refused(user=user, patient_id=patient_id, action="billing.account")
    patient = patient_get_for_user(user=user, patient_id=patient_id, action="billing.account")
    return _account(patient)


def own_account(*, user) -> Account | None:
    """The signed-in patient's own account (None when the account has no patient record).
    Audited."""
    patient = patient_of_user(user)
    if patient is None:
        return None
    audit_record(action="billing.portal_account", actor=user, obj=patient, patient=patient)
    account = _account(patient)
    account.invoices = [i for i in account.invoices if i.status != InvoiceStatus.DRAFT]
    account.charges = [c for c in account.charges if c.status == ChargeStatus.POSTED]
    return account
