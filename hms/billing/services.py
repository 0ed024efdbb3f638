"""Every write of billing: the price list, charges, invoices, credit notes, payments, insurance.

Lock order (as everywhere): the patient row first, then the patient's invoices, then the
number counter. Charges from care arrive through domain events after the care's transaction
commits (handlers.py) and are posted once per source (`Charge.source_key` is unique).

Invoice rule: a patient has at most one open draft (a partial unique index); every charge
lands on it. Issuing freezes it, numbers it (INV-<year>-<6 digits>, gapless per year), splits
it between the payer and the patient when the patient has a valid coverage, and applies the
patient's credit.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from hms.accounts.models import User
from hms.billing import ledger
from hms.billing.models import (
    OPEN_STATUSES,
    ZERO,
    Charge,
    ChargeStatus,
    Claim,
    ClaimStatus,
    CopayKind,
    Coverage,
    CreditNote,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payer,
    Payment,
    PaymentKind,
    PaymentMethod,
    PriceItem,
    PriceKind,
    money,
)
from hms.billing.selectors import invoice_money, patient_credit, patient_due
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.permissions import Perm
from hms.patients.models import Patient

INVOICE_DUE_DAYS = 30
MAX_AMOUNT = Decimal("9999999999.99")


def _amount(value, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    try:
        amount = money(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError("Enter an amount.", fields={field: "Enter an amount."}) from None
    if not amount.is_finite() or amount > MAX_AMOUNT:
        raise DomainError("The amount is too large.", fields={field: "Too large."})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise DomainError("The amount must be positive.", fields={field: "Must be positive."})
    return amount


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason.", fields={field: "A reason is required."})
    return reason[:300]


def _lock_patient(patient_id) -> Patient:
    """The patient row, locked first (the lock order); a merged record is refused."""
    patient = Patient.objects.select_for_update().filter(pk=patient_id).first()
    if patient is None:
        raise NotFound("No such patient.")
    if patient.merged_into_id is not None:
        raise Conflict("This record was merged into another one.", code="patient_merged")
    return patient


def _lock_invoice(invoice_id) -> Invoice:
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def _next_number(*, series: str, year: int) -> str:
    """The next number of `series` in `year` (INV-2026-000123). Call inside the transaction
    that uses it: the counter row stays locked until it commits, so concurrent issuers queue,
    and a rollback gives the number back (no gap)."""
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(series=series, year=year)], ignore_conflicts=True
    )
    counter = DocumentCounter.objects.select_for_update().get(series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{series}-{year}-{counter.last:06d}"


# --- Price list ---------------------------------------------------------------------------------


def price_item_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str,
    unit_price,
    tax_rate=ZERO,
    valid_from: date | None = None,
    valid_to: date | None = None,
    service=None,
    lab_test_code: str = "",
    inventory_item_code: str = "",
) -> PriceItem:
    """Add a billable item to the price list."""
    require(actor, Perm.BILLING_WRITE)
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise DomainError("Give a code and a name.", fields={"code": "Required."})
    if kind not in PriceKind.values:
        raise DomainError("Unknown kind.", fields={"kind": "Unknown kind."})
    price = _amount(unit_price, "unit_price", allow_zero=True)
    rate = _amount(tax_rate, "tax_rate", allow_zero=True)
    if rate > 100:
        raise DomainError("A tax rate is at most 100 %.", fields={"tax_rate": "At most 100."})
    valid_from = valid_from or timezone.localdate()
    if valid_to is not None and valid_to < valid_from:
        raise DomainError("The end is before the start.", fields={"valid_to": "Before start."})
    try:
        with transaction.atomic():
            item = PriceItem.objects.create(
                code=code, name=name, kind=kind, unit_price=price, tax_rate=rate,
                valid_from=valid_from, valid_to=valid_to, service=service,
                lab_test_code=(lab_test_code or "").strip(),
                inventory_item_code=(inventory_item_code or "").strip(),
            )  # fmt: skip
            audit_record(action="billing.price_item_create", actor=actor, obj=item,
                         details={"code": code, "unit_price": str(price)})  # fmt: skip
    except IntegrityError:
        raise Conflict(
            "This code already has a price from that date.", code="duplicate_price"
        ) from None
    return item


def price_item_change_price(
    *, actor: User, item: PriceItem, unit_price, valid_from: date, tax_rate=None
) -> PriceItem:
    """A new price from `valid_from`: the current row ends the day before and a new row starts.
    Invoices already issued keep the price their lines were given."""
    require(actor, Perm.BILLING_WRITE)
    price = _amount(unit_price, "unit_price", allow_zero=True)
    if valid_from <= item.valid_from:
        raise DomainError(
            "A new price starts after the current one.", fields={"valid_from": "Too early."}
        )
    with transaction.atomic():
        current = PriceItem.objects.select_for_update().get(pk=item.pk)
        if current.valid_to is not None and current.valid_to < valid_from:
            raise Conflict("This price has already ended.", code="price_ended")
        old_end = current.valid_to
        current.valid_to = valid_from - timedelta(days=1)
        current.save(update_fields=["valid_to", "updated_at"])
        new = PriceItem.objects.create(
            code=current.code, name=current.name, kind=current.kind, unit_price=price,
            tax_rate=current.tax_rate if tax_rate is None else money(tax_rate),
            valid_from=valid_from, valid_to=old_end, service=current.service,
            lab_test_code=current.lab_test_code,
            inventory_item_code=current.inventory_item_code,
        )  # fmt: skip
        audit_record(action="billing.price_change", actor=actor, obj=new,
                     details={"code": new.code, "from": str(current.unit_price),
                              "to": str(price), "valid_from": valid_from.isoformat()})  # fmt: skip
    return new


# --- Charges ------------------------------------------------------------------------------------


def _draft_for(patient: Patient) -> Invoice:
    """The patient's open draft, created on first use (the patient row is locked, so two
    charges at once find or create the same one)."""
    draft = Invoice.objects.filter(patient=patient, status=InvoiceStatus.DRAFT).first()
    if draft is None:
        draft = Invoice.objects.create(patient=patient, currency=settings.BILLING_CURRENCY)
    return draft


def _recompute(invoice: Invoice) -> None:
    totals = ledger.invoice_totals(invoice.lines.all())
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal=totals.subtotal, tax_total=totals.tax_total,
        discount_total=totals.discount_total, total=totals.total, updated_at=timezone.now(),
    )  # fmt: skip
    invoice.refresh_from_db()


def _put_on_draft(charge: Charge, patient: Patient) -> None:
    """The charge lands on the patient's draft as a line: a snapshot of its price and tax."""
    draft = _draft_for(patient)
    amounts = ledger.line_amounts(
        quantity=charge.quantity, unit_price=charge.unit_price,
        discount=charge.discount, tax_rate=charge.tax_rate,
    )  # fmt: skip
    InvoiceLine.objects.create(
        invoice=draft, charge=charge, code=charge.code, description=charge.description,
        quantity=charge.quantity, unit_price=charge.unit_price, discount=charge.discount,
        tax_rate=charge.tax_rate, net=amounts.net, tax=amounts.tax, total=amounts.total,
    )  # fmt: skip
    Charge.objects.filter(pk=charge.pk).update(invoice=draft)
    charge.invoice = draft
    _recompute(draft)


def _quantity(value) -> Decimal:
    try:
        quantity = Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError("Enter a quantity.", fields={"quantity": "Enter a number."}) from None
    if not quantity.is_finite() or quantity <= 0 or quantity > 100000:
        raise DomainError("The quantity must be positive.", fields={"quantity": "Invalid."})
    return quantity


def charge_post_for_source(
    *,
    actor: User | None,
    source_key: str,
    patient_id,
    price_item: PriceItem,
    quantity=Decimal("1"),
    department_id=None,
    service_name: str = "",
    description: str = "",
    service_date: date | None = None,
) -> Charge:
    """Post the charge of something care did (a completed consultation, a resulted lab test, a
    dispense), priced from the price list, onto the patient's draft. Once per `source_key`:
    posting the same source again returns the charge already posted."""
    require(actor, Perm.BILLING_WRITE)
    existing = Charge.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    quantity = _quantity(quantity)
    try:
        with transaction.atomic():
            patient = _lock_patient(patient_id)
            charge = Charge.objects.create(
                patient=patient, price_item=price_item, kind=price_item.kind,
                code=price_item.code, description=description or price_item.name,
                quantity=quantity, unit_price=price_item.unit_price,
                tax_rate=price_item.tax_rate, source_key=source_key,
                department_id=department_id, service_name=service_name,
                service_date=service_date or timezone.localdate(), posted_by=actor,
            )  # fmt: skip
            _put_on_draft(charge, patient)
            audit_record(action="billing.charge_post", actor=actor, obj=charge, patient=patient,
                         details={"source": source_key, "code": price_item.code})  # fmt: skip
    except IntegrityError:
        # The race: the same event delivered twice at once; the unique key keeps one.
        return Charge.objects.get(source_key=source_key)
    return charge


def charge_add(
    *,
    actor: User,
    patient: Patient,
    description: str = "",
    unit_price=None,
    quantity=Decimal("1"),
    price_item: PriceItem | None = None,
    kind: str = PriceKind.OTHER,
    tax_rate=ZERO,
    discount=ZERO,
    department=None,
) -> Charge:
    """A charge added by staff (a procedure, a bed-day, a consumable...): from a price-list item,
    or described and priced by hand. A discount is an amount off the line."""
    require(actor, Perm.BILLING_WRITE)
    if price_item is not None:
        description = description or price_item.name
        unit_price = price_item.unit_price if unit_price in (None, "") else unit_price
        tax_rate, kind = price_item.tax_rate, price_item.kind
    description = (description or "").strip()[:200]
    if not description:
        raise DomainError("Describe the charge.", fields={"description": "Required."})
    if kind not in PriceKind.values:
        raise DomainError("Unknown kind.", fields={"kind": "Unknown kind."})
    price = _amount(unit_price, "unit_price", allow_zero=True)
    rate = _amount(tax_rate, "tax_rate", allow_zero=True)
    if rate > 100:
        raise DomainError("A tax rate is at most 100 %.", fields={"tax_rate": "At most 100."})
    quantity = _quantity(quantity)
    off = _amount(discount, "discount", allow_zero=True)
    if off > money(quantity * price):
        raise DomainError("The discount exceeds the charge.", fields={"discount": "Too large."})
    with transaction.atomic():
        patient = _lock_patient(patient.pk)
        charge = Charge(
            patient=patient, price_item=price_item, kind=kind,
            code=price_item.code if price_item else "", description=description,
            quantity=quantity, unit_price=price, tax_rate=rate, discount=off,
            department=department, service_date=timezone.localdate(), posted_by=actor,
            service_name=(price_item.name if price_item else description)[:120],
        )  # fmt: skip
        charge.source_key = f"manual:{charge.pk}"
        charge.save()
        _put_on_draft(charge, patient)
        audit_record(action="billing.charge_add", actor=actor, obj=charge, patient=patient,
                     details={"amount": str(price), "quantity": str(quantity)})  # fmt: skip
    return charge


def charge_void(*, actor: User, charge: Charge, reason: str) -> Charge:
    """Void a charge with a reason. On a draft its line goes; a charge on an issued invoice
    cannot be voided (the invoice is corrected by a credit note)."""
    require(actor, Perm.BILLING_WRITE)
    reason = _reason(reason)
    with transaction.atomic():
        _lock_patient(charge.patient_id)
        current = Charge.objects.select_for_update().get(pk=charge.pk)
        if current.status == ChargeStatus.VOID:
            raise Conflict("The charge is already void.", code="already_void")
        invoice = current.invoice
        if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(
                "The charge is on an issued invoice: correct it with a credit note.",
                code="invoice_issued",
            )
        if invoice is not None:
            InvoiceLine.objects.filter(charge=current).delete()  # a draft is not a ledger yet
            _recompute(invoice)
        current.status, current.void_reason = ChargeStatus.VOID, reason
        current.voided_at, current.voided_by, current.invoice = timezone.now(), actor, None
        current.save()
        audit_record(action="billing.charge_void", actor=actor, obj=current,
                     patient=current.patient_id, details={"reason": reason})  # fmt: skip
    return current


# --- Invoices -----------------------------------------------------------------------------------


def _settle_status(invoice: Invoice) -> None:
    """issued / partially paid / paid, from the ledger (a void invoice stays void)."""
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return
    figures = invoice_money(invoice)
    if figures.balance <= 0:
        status = InvoiceStatus.PAID
    elif figures.paid > 0 or figures.credits > 0:
        status = InvoiceStatus.PARTIALLY_PAID
    else:
        status = InvoiceStatus.ISSUED
    if status != invoice.status:
        Invoice.objects.filter(pk=invoice.pk).update(status=status, updated_at=timezone.now())
        invoice.status = status


def _entry(**fields) -> Payment:
    fields.setdefault("currency", settings.BILLING_CURRENCY)
    fields.setdefault("received_at", timezone.now())
    return Payment.objects.create(**fields)


def _apply_credit(invoice: Invoice, actor) -> Payment | None:
    """The patient's credit pays what they owe on the invoice (as far as it goes)."""
    available = patient_credit(invoice.patient_id)
    amount = min(available, patient_due(invoice))
    if amount <= 0:
        return None
    entry = _entry(
        patient_id=invoice.patient_id, invoice=invoice, kind=PaymentKind.PAYMENT,
        method=PaymentMethod.CREDIT, amount=amount, received_by=actor,
        receipt_number=_next_number(series="RCPT", year=timezone.localdate().year),
        reference="Credit applied",
    )  # fmt: skip
    audit_record(action="billing.credit_apply", actor=actor, obj=entry,
                 patient=invoice.patient_id, details={"amount": str(amount)})  # fmt: skip
    return entry


def _valid_coverage(patient_id, on: date) -> Coverage | None:
    return (
        Coverage.objects.filter(patient_id=patient_id, is_active=True, valid_from__lte=on)
        .exclude(valid_to__lt=on)
        .select_related("payer")
        .order_by("-valid_from")
        .first()
    )


def invoice_issue(*, actor: User, invoice: Invoice) -> Invoice:
    """Draft -> issued: the invoice is frozen and numbered (gapless per year). With a valid
    coverage the payer's share is split off and a draft claim made; the patient's credit pays
    what it can of the rest."""
    require(actor, Perm.BILLING_WRITE)
    with transaction.atomic():
        _lock_patient(invoice.patient_id)
        current = _lock_invoice(invoice.pk)
        if current.status != InvoiceStatus.DRAFT:
            raise Conflict("Only a draft can be issued.", code="invalid_state")
        if not current.lines.exists():
            raise DomainError("The invoice has no lines.", code="empty_invoice")
        _recompute(current)
        today = timezone.localdate()
        current.number = _next_number(series="INV", year=today.year)
        current.status = InvoiceStatus.ISSUED
        current.issued_at, current.issued_by = timezone.now(), actor
        current.due_date = today + timedelta(days=INVOICE_DUE_DAYS)
        coverage = _valid_coverage(current.patient_id, today)
        if coverage is not None and current.total > 0:
            payer, _patient = ledger.copay_split(
                total=current.total, copay_kind=coverage.copay_kind,
                copay_value=coverage.copay_value,
            )  # fmt: skip
            current.coverage, current.payer_share = coverage, payer
        current.save()
        if current.payer_share > 0:
            Claim.objects.create(
                invoice=current, coverage=current.coverage, amount_claimed=current.payer_share
            )
        audit_record(action="billing.invoice_issue", actor=actor, obj=current,
                     patient=current.patient_id,
                     details={"number": current.number, "total": str(current.total)})  # fmt: skip
        _apply_credit(current, actor)
        _settle_status(current)
    invoice.refresh_from_db()
    return invoice


def invoice_void(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Void a draft or an issued invoice nobody has paid, with a reason. Its charges are voided
    with it (post them again if they were right). An issued invoice keeps its number."""
    require(actor, Perm.BILLING_WRITE)
    reason = _reason(reason)
    with transaction.atomic():
        _lock_patient(invoice.patient_id)
        current = _lock_invoice(invoice.pk)
        if current.status == InvoiceStatus.VOID:
            raise Conflict("The invoice is already void.", code="already_void")
        figures = invoice_money(current)
        if figures.payments or figures.credits:
            raise Conflict(
                "Money or credit notes are recorded on this invoice: refund or credit instead.",
                code="has_payments",
            )
        now = timezone.now()
        Charge.objects.filter(invoice=current, status=ChargeStatus.POSTED).update(
            status=ChargeStatus.VOID, void_reason=f"Invoice voided: {reason}"[:300],
            voided_at=now, voided_by=actor, updated_at=now,
        )  # fmt: skip
        current.status, current.void_reason, current.voided_at = InvoiceStatus.VOID, reason, now
        current.save()
        audit_record(action="billing.invoice_void", actor=actor, obj=current,
                     patient=current.patient_id, details={"reason": reason})  # fmt: skip
    invoice.refresh_from_db()
    return invoice


def credit_note_create(*, actor: User, invoice: Invoice, amount, reason: str) -> CreditNote:
    """Correct an issued invoice: the credit note lowers what is owed (at most what was
    invoiced less earlier credit notes). What it frees beyond the balance (the invoice was
    already paid) becomes the patient's credit."""
    require(actor, Perm.BILLING_WRITE)
    amount, reason = _amount(amount), _reason(reason)
    with transaction.atomic():
        _lock_patient(invoice.patient_id)
        current = _lock_invoice(invoice.pk)
        if current.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            raise Conflict("Only an issued invoice takes a credit note.", code="invalid_state")
        figures = invoice_money(current)
        if amount > current.total - figures.credits:
            raise DomainError(
                "A credit note cannot exceed what was invoiced.",
                code="credit_too_large",
                fields={"amount": f"At most {current.total - figures.credits}."},
            )
        note = CreditNote.objects.create(
            invoice=current, amount=amount, reason=reason, created_by=actor,
            number=_next_number(series="CN", year=timezone.localdate().year),
        )  # fmt: skip
        excess = -(figures.balance - amount)
        if excess > 0:
            _entry(
                patient_id=current.patient_id, invoice=current, kind=PaymentKind.REFUND,
                method=PaymentMethod.CREDIT, amount=excess, received_by=actor,
                reason=f"{note.number}: overpayment kept as credit",
                receipt_number=_next_number(series="RCPT", year=timezone.localdate().year),
            )  # fmt: skip
        if current.payer_share > current.total - figures.credits - amount:
            current.payer_share = current.total - figures.credits - amount
            current.save(update_fields=["payer_share", "updated_at"])
        audit_record(action="billing.credit_note_create", actor=actor, obj=note,
                     patient=current.patient_id,
                     details={"invoice": current.number, "amount": str(amount)})  # fmt: skip
        _settle_status(current)
    return note


# --- Payments -----------------------------------------------------------------------------------

DESK_METHODS = (
    PaymentMethod.CASH,
    PaymentMethod.CARD,
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.INSURER,
)


def payment_take(
    *,
    actor: User,
    invoice: Invoice | None = None,
    patient: Patient | None = None,
    amount,
    method: str,
    reference: str = "",
) -> Payment:
    """Record money received, for an invoice (or on the patient's account). What exceeds the
    invoice's balance is kept as the patient's credit (a second entry on the same receipt),
    applied to their next invoice. Returns the entry for the invoice (or the account)."""
    require(actor, Perm.BILLING_WRITE)
    amount = _amount(amount)
    if method not in DESK_METHODS:
        raise DomainError("Choose how it was paid.", fields={"method": "Unknown method."})
    if invoice is None and patient is None:
        raise DomainError("Name the invoice or the patient.", fields={"invoice": "Required."})
    reference = (reference or "").strip()[:100]
    with transaction.atomic():
        patient_id = invoice.patient_id if invoice is not None else patient.pk
        _lock_patient(patient_id)
        receipt = _next_number(series="RCPT", year=timezone.localdate().year)
        common = dict(patient_id=patient_id, kind=PaymentKind.PAYMENT, method=method,
                      received_by=actor, receipt_number=receipt, reference=reference)  # fmt: skip
        first = None
        applied = ZERO
        if invoice is not None:
            current = _lock_invoice(invoice.pk)
            if current.status not in OPEN_STATUSES:
                raise Conflict(
                    "Payments are taken on an issued invoice that is not paid yet.",
                    code="invalid_state",
                )
            applied = min(amount, max(ZERO, invoice_money(current).balance))
            if applied > 0:
                first = _entry(invoice=current, amount=applied, **common)
        if amount - applied > 0:
            rest = _entry(invoice=None, amount=amount - applied, **common)
            first = first or rest
        audit_record(action="billing.payment_take", actor=actor, obj=first, patient=patient_id,
                     details={"receipt": receipt, "amount": str(amount), "method": method,
                              "applied": str(applied)})  # fmt: skip
        if invoice is not None:
            _settle_status(current)
    return first


def payment_refund(
    *, actor: User, payment: Payment, amount, reason: str, method: str | None = None
) -> Payment:
    """Give money back: a reversing entry against a payment (never more than is left of it).
    Refunding an invoice payment re-opens the invoice's balance; refunding money kept on
    account lowers the patient's credit."""
    require(actor, Perm.BILLING_WRITE)
    amount, reason = _amount(amount), _reason(reason)
    method = method or payment.method
    if method not in DESK_METHODS:
        raise DomainError("Choose how it is paid back.", fields={"method": "Unknown method."})
    with transaction.atomic():
        _lock_patient(payment.patient_id)
        original = Payment.objects.select_for_update().get(pk=payment.pk)
        if original.kind != PaymentKind.PAYMENT or original.method == PaymentMethod.CREDIT:
            raise Conflict("Only money received can be refunded.", code="not_refundable")
        done = original.refunded_by.aggregate(s=Sum("amount"))["s"] or ZERO
        if amount > original.amount - done:
            raise DomainError(
                "The refund exceeds what is left of the payment.",
                code="refund_too_large",
                fields={"amount": f"At most {original.amount - done}."},
            )
        if original.invoice_id is None and amount > patient_credit(original.patient_id):
            raise Conflict("The patient's credit was already used.", code="credit_used")
        refund = _entry(
            patient_id=original.patient_id, invoice_id=original.invoice_id,
            kind=PaymentKind.REFUND, method=method, amount=amount, reason=reason,
            refunds=original, received_by=actor,
            receipt_number=_next_number(series="RCPT", year=timezone.localdate().year),
        )  # fmt: skip
        audit_record(action="billing.payment_refund", actor=actor, obj=refund,
                     patient=original.patient_id,
                     details={"of": original.receipt_number, "amount": str(amount),
                              "reason": reason})  # fmt: skip
        if original.invoice_id:
            _settle_status(_lock_invoice(original.invoice_id))
    return refund


# --- Insurance ----------------------------------------------------------------------------------


def payer_create(*, actor: User, name: str, code: str = "", contact: str = "") -> Payer:
    """Add an insurer."""
    require(actor, Perm.BILLING_WRITE)
    name = (name or "").strip()[:120]
    if not name:
        raise DomainError("Name the payer.", fields={"name": "Required."})
    try:
        with transaction.atomic():
            payer = Payer.objects.create(name=name, code=code.strip()[:40], contact=contact[:200])
            audit_record(action="billing.payer_create", actor=actor, obj=payer)
    except IntegrityError:
        raise Conflict("A payer of that name exists.", code="duplicate_payer") from None
    return payer


def coverage_add(
    *,
    actor: User,
    patient: Patient,
    payer: Payer,
    policy_number: str,
    plan: str = "",
    copay_kind: str = CopayKind.PERCENT,
    copay_value=ZERO,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Coverage:
    """Record a patient's insurance: the payer, the policy and the patient's co-pay."""
    require(actor, Perm.BILLING_WRITE)
    policy_number = (policy_number or "").strip()[:60]
    if not policy_number:
        raise DomainError("Give the policy number.", fields={"policy_number": "Required."})
    if copay_kind not in CopayKind.values:
        raise DomainError("Unknown co-pay.", fields={"copay_kind": "Unknown."})
    value = _amount(copay_value, "copay_value", allow_zero=True)
    if copay_kind == CopayKind.PERCENT and value > 100:
        raise DomainError("A percentage is at most 100.", fields={"copay_value": "At most 100."})
    valid_from = valid_from or timezone.localdate()
    if valid_to is not None and valid_to < valid_from:
        raise DomainError("The end is before the start.", fields={"valid_to": "Before start."})
    with transaction.atomic():
        _lock_patient(patient.pk)
        coverage = Coverage.objects.create(
            patient=patient, payer=payer, policy_number=policy_number, plan=plan[:120],
            copay_kind=copay_kind, copay_value=value, valid_from=valid_from, valid_to=valid_to,
        )  # fmt: skip
        audit_record(action="billing.coverage_add", actor=actor, obj=coverage, patient=patient)
    return coverage


def _lock_claim(claim: Claim) -> tuple[Claim, Invoice]:
    _lock_patient(claim.invoice.patient_id)
    invoice = _lock_invoice(claim.invoice_id)
    return Claim.objects.select_for_update().get(pk=claim.pk), invoice


def claim_submit(*, actor: User, claim: Claim) -> Claim:
    """Draft -> submitted (sent to the payer)."""
    require(actor, Perm.BILLING_WRITE)
    with transaction.atomic():
        current, invoice = _lock_claim(claim)
        if current.status != ClaimStatus.DRAFT:
            raise Conflict("Only a draft claim is submitted.", code="invalid_state")
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict("The invoice is void.", code="invoice_void")
        current.status, current.submitted_at = ClaimStatus.SUBMITTED, timezone.now()
        current.save()
        audit_record(action="billing.claim_submit", actor=actor, obj=current,
                     patient=invoice.patient_id)  # fmt: skip
    return current


def claim_decide(*, actor: User, claim: Claim, approved_amount, reason: str = "") -> Claim:
    """The payer's answer to a submitted claim: approved (all), partly approved or rejected
    (with the payer's reason). What the payer will not pay is re-billed to the patient: the
    invoice's payer share drops to the approved amount."""
    require(actor, Perm.BILLING_WRITE)
    approved = _amount(approved_amount, "approved_amount", allow_zero=True)
    with transaction.atomic():
        current, invoice = _lock_claim(claim)
        if current.status != ClaimStatus.SUBMITTED:
            raise Conflict("Only a submitted claim is decided.", code="invalid_state")
        if approved > current.amount_claimed:
            raise DomainError("More than was claimed.", fields={"approved_amount": "Too large."})
        if approved == current.amount_claimed:
            status = ClaimStatus.APPROVED
        else:
            reason = _reason(reason)
            status = ClaimStatus.REJECTED if approved == 0 else ClaimStatus.PARTLY_APPROVED
        current.status, current.amount_approved = status, approved
        current.rejection_reason, current.decided_at = reason.strip()[:300], timezone.now()
        current.save()
        invoice.payer_share = approved
        invoice.save(update_fields=["payer_share", "updated_at"])
        audit_record(action="billing.claim_decide", actor=actor, obj=current,
                     patient=invoice.patient_id,
                     details={"status": status, "approved": str(approved),
                              "reason": current.rejection_reason})  # fmt: skip
    return current


def claim_record_payment(*, actor: User, claim: Claim, amount, reference: str = "") -> Claim:
    """The payer paid an approved claim: an insurer payment on the invoice; the claim is
    paid."""
    require(actor, Perm.BILLING_WRITE)
    amount = _amount(amount)
    with transaction.atomic():
        current, invoice = _lock_claim(claim)
        if current.status not in (ClaimStatus.APPROVED, ClaimStatus.PARTLY_APPROVED):
            raise Conflict("Only an approved claim is paid.", code="invalid_state")
        if amount > (current.amount_approved or ZERO) - current.amount_paid:
            raise DomainError("More than was approved.", fields={"amount": "Too large."})
        if invoice.status not in OPEN_STATUSES:
            raise Conflict("The invoice is not open.", code="invalid_state")
        entry = _entry(
            patient_id=invoice.patient_id, invoice=invoice, kind=PaymentKind.PAYMENT,
            method=PaymentMethod.INSURER, amount=amount, claim=current, received_by=actor,
            reference=(reference or "").strip()[:100],
            receipt_number=_next_number(series="RCPT", year=timezone.localdate().year),
        )  # fmt: skip
        current.amount_paid += amount
        if current.amount_paid >= (current.amount_approved or ZERO):
            current.status = ClaimStatus.PAID
        current.save()
        audit_record(action="billing.claim_payment", actor=actor, obj=entry,
                     patient=invoice.patient_id, details={"amount": str(amount)})  # fmt: skip
        _settle_status(invoice)
    return current
