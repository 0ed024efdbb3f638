"""Billing: the price list, charges posted by care, invoices, payments, credit notes, insurance.

The ledger explains every balance and nothing is deleted:
- a charge is posted once per source (`source_key` is unique: a replayed event posts nothing)
  and corrected by voiding it with a reason;
- an invoice line snapshots the charge's price, tax and discount when the charge lands on the
  draft, so a later price change never alters an invoice;
- an issued invoice is never edited: a credit note corrects it;
- money is `Payment` rows: `payment` (in) and `refund` (out, a reversing entry). Method `credit`
  moves money between an invoice and the patient's credit (an overpayment kept on account).

    invoice balance = total - payments + refunds - credit notes
    patient credit  = payments on account + refunds into credit - credit applied - credit refunded

Invoice, credit note and receipt numbers are gapless per year and series (`DocumentCounter`,
locked with SELECT ... FOR UPDATE in the issuing transaction, so a rollback frees the number).
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from hms.core.models import Department, TimeStampedModel

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """The one rounding rule: half-up to cents."""
    return Decimal(str(value) if not isinstance(value, Decimal) else value).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _known(field: str, choices, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


def _money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- Price list ---------------------------------------------------------------------------------


class PriceKind(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    LAB = "lab", "Lab test"
    PROCEDURE = "procedure", "Procedure"
    MEDICINE = "medicine", "Medicine"
    CONSUMABLE = "consumable", "Consumable"
    BED_DAY = "bed_day", "Bed-day"
    OTHER = "other", "Other"


class PriceItem(TimeStampedModel):
    """A billable item at a price valid from one date to another. A new price is a new row (the
    old one ends the day before), so the history stays and issued invoices keep their snapshot.

    What care posts it for: a consultation names its scheduling `service`, a lab test its
    `lab_test_code` (LOINC), a medicine or consumable its `inventory_item_code` (a plain string:
    billing does not import inventory)."""

    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=PriceKind.choices)
    unit_price = _money_field()
    tax_rate = models.DecimalField("tax rate (%)", max_digits=5, decimal_places=2, default=ZERO)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    service = models.ForeignKey(
        "scheduling.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lab_test_code = models.CharField(max_length=20, blank=True, db_index=True)
    inventory_item_code = models.CharField(max_length=60, blank=True, db_index=True)

    class Meta:
        ordering = ["kind", "code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="price_item_code_from"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="price_item_price_ge_0"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lte=100), name="price_item_tax_0_100"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="price_item_valid_range",
            ),
            _known("kind", PriceKind, "price_item_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# --- Charges ------------------------------------------------------------------------------------


class ChargeStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    VOID = "void", "Void"


class Charge(TimeStampedModel):
    """Something billable that happened to a patient, posted once per source."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    price_item = models.ForeignKey(
        PriceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(max_length=16, choices=PriceKind.choices)
    code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=10, decimal_places=3, default=Decimal("1"))
    unit_price = _money_field()
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    discount = _money_field(default=ZERO)
    # "appointment:<id>", "lab_order:<id>", "dispense:<id>", "manual:<uuid>": one charge each.
    source_key = models.CharField(max_length=120, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_name = models.CharField(max_length=120, blank=True)
    service_date = models.DateField()
    status = models.CharField(max_length=8, choices=ChargeStatus.choices, default="posted")
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        "Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="charge_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="charge_price_ge_0"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="charge_discount_ge_0"),
            models.CheckConstraint(
                condition=Q(status="posted") | (~Q(void_reason="") & Q(voided_at__isnull=False)),
                name="charge_void_has_reason",
            ),
            _known("status", ChargeStatus, "charge_status_known"),
            _known("kind", PriceKind, "charge_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.description} x {self.quantity}"


# --- Invoices -----------------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class Invoice(TimeStampedModel):
    """A patient's bill. Charges land on the patient's one open draft (the database allows one
    draft per patient); issuing freezes it and gives it its number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default="draft")
    currency = models.CharField(max_length=3)
    subtotal = _money_field(default=ZERO)
    tax_total = _money_field(default=ZERO)
    discount_total = _money_field(default=ZERO)
    total = _money_field(default=ZERO)
    # Insurance: the payer's expected share, set at issue from the patient's coverage, lowered
    # when a claim is approved in part or rejected (the patient's share is then re-billed).
    payer_share = _money_field(default=ZERO)
    coverage = models.ForeignKey(
        "Coverage", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["status", "issued_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="draft"),
                name="invoice_one_draft_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(number__isnull=False, issued_at__isnull=False)
                | Q(status="void"),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | ~Q(void_reason=""), name="invoice_void_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(payer_share__gte=0) & Q(payer_share__lte=models.F("total")),
                name="invoice_payer_share_in_total",
            ),
            _known("status", InvoiceStatus, "invoice_status_known"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft for {self.patient_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class InvoiceLine(TimeStampedModel):
    """A line: what the charge cost when it landed on the invoice (a snapshot)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    charge = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="line"
    )
    code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    unit_price = _money_field()
    discount = _money_field(default=ZERO)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    net = _money_field()
    tax = _money_field()
    total = _money_field()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # total = net + tax; within half a cent, because SQLite adds decimals as floats
            # (0.1 + 0.2 != 0.3 there).
            models.CheckConstraint(
                condition=Q(total__gte=models.F("net") + models.F("tax") - Decimal("0.005"))
                & Q(total__lte=models.F("net") + models.F("tax") + Decimal("0.005")),
                name="invoice_line_sum",
            ),
            models.CheckConstraint(condition=Q(net__gte=0), name="invoice_line_net_ge_0"),
        ]

    def __str__(self) -> str:
        return self.description


class DocumentCounter(models.Model):
    """The last number given in a series (INV, CN, RCPT) and year: one row each, locked by
    the issuing transaction so that numbers are consecutive and never skipped."""

    series = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"


class CreditNote(TimeStampedModel):
    """A correction of an issued invoice: lowers what is owed; never more than was invoiced."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=20, unique=True)
    amount = _money_field()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_gt_0"),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_note_has_reason"),
        ]

    def __str__(self) -> str:
        return self.number


# --- Payments -----------------------------------------------------------------------------------


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card (at the desk)"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    INSURER = "insurer", "Insurer"
    CREDIT = "credit", "Patient credit"


# What the desk records (credit moves only by the services: applied at issue, kept on excess).
DESK_METHOD_CHOICES = [
    (m.value, m.label)
    for m in (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER,
              PaymentMethod.INSURER)
]  # fmt: skip


class Payment(TimeStampedModel):
    """One ledger entry of money: received (`payment`) or given back (`refund`), for an invoice
    or on the patient's account (`invoice` empty: credit). Never edited or deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=8, choices=PaymentKind.choices, default="payment")
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    amount = _money_field()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # One receipt may cover two entries (the invoice's part and the excess kept as credit).
    receipt_number = models.CharField(max_length=20, db_index=True)
    refunds = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunded_by"
    )
    claim = models.ForeignKey(
        "Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "created_at"]
        indexes = [
            models.Index(fields=["patient", "received_at"]),
            models.Index(fields=["received_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(kind="payment") | ~Q(reason=""), name="payment_refund_has_reason"
            ),
            # Credit is applied to an invoice; a refund of credit pays money out of the account.
            models.CheckConstraint(
                condition=~Q(kind="payment", method="credit") | Q(invoice__isnull=False),
                name="payment_credit_applied_to_invoice",
            ),
            _known("kind", PaymentKind, "payment_kind_known"),
            _known("method", PaymentMethod, "payment_method_known"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.kind} {self.amount}"


# --- Insurance ----------------------------------------------------------------------------------


class Payer(TimeStampedModel):
    """An insurer (or any third party that pays for patients)."""

    name = models.CharField(max_length=120, unique=True)
    code = models.CharField(max_length=40, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CopayKind(models.TextChoices):
    PERCENT = "percent", "Percentage of the invoice"
    FIXED = "fixed", "Fixed amount per invoice"


class Coverage(TimeStampedModel):
    """A patient's insurance: the payer pays the invoice less the patient's co-pay."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    policy_number = models.CharField(max_length=60)
    plan = models.CharField(max_length=120, blank=True)
    copay_kind = models.CharField(max_length=8, choices=CopayKind.choices, default="percent")
    copay_value = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(copay_value__gte=0), name="coverage_copay_ge_0"),
            models.CheckConstraint(
                condition=~Q(copay_kind="percent") | Q(copay_value__lte=100),
                name="coverage_copay_percent_le_100",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="coverage_valid_range",
            ),
            _known("copay_kind", CopayKind, "coverage_copay_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} {self.policy_number}"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    PARTLY_APPROVED = "partly_approved", "Partly approved"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"


class Claim(TimeStampedModel):
    """What the payer is asked to pay for one invoice: draft -> submitted -> approved / partly
    approved / rejected -> paid. A rejection (or part approval) re-bills the patient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="claim")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default="draft")
    amount_claimed = _money_field()
    amount_approved = _money_field(null=True, blank=True)
    amount_paid = _money_field(default=ZERO)
    rejection_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_claimed__gte=0), name="claim_amount_ge_0"),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "partly_approved"]) | ~Q(rejection_reason=""),
                name="claim_rejection_has_reason",
            ),
            _known("status", ClaimStatus, "claim_status_known"),
        ]

    def __str__(self) -> str:
        return f"Claim for {self.invoice}"
