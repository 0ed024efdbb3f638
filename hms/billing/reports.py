"""The billing office's reports, each one query (or two) whatever the size of the ledger:
balances per invoice and per patient, accounts-receivable aging, the daily cash report per
cashier, revenue by department and service. Each returns rows (dicts) that the page shows and
the CSV export writes."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from hms.billing.models import (
    OPEN_STATUSES,
    ZERO,
    Charge,
    ChargeStatus,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
    money,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)
AGING_BUCKETS = (("0–30", 0, 30), ("31–60", 31, 60), ("61–90", 61, 90), ("90+", 91, None))


def _sum_of(queryset, group: str):
    return Coalesce(
        Subquery(
            queryset.filter(**{group: OuterRef("pk")})
            .order_by()
            .values(group)
            .annotate(s=Sum("amount"))
            .values("s")[:1],
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def invoices_with_balance(queryset: QuerySet | None = None) -> QuerySet:
    """Invoices annotated with `paid_in`, `refunded`, `credited` and `balance` (one query)."""
    queryset = Invoice.objects.all() if queryset is None else queryset
    payments = Payment.objects.filter(kind=PaymentKind.PAYMENT)
    refunds = Payment.objects.filter(kind=PaymentKind.REFUND)
    return queryset.annotate(
        paid_in=_sum_of(payments, "invoice"),
        refunded=_sum_of(refunds, "invoice"),
        credited=_sum_of(CreditNote.objects.all(), "invoice"),
    ).annotate(
        balance=ExpressionWrapper(
            F("total") - F("paid_in") + F("refunded") - F("credited"), output_field=MONEY
        )
    )


def open_invoices() -> QuerySet:
    return invoices_with_balance(
        Invoice.objects.filter(status__in=OPEN_STATUSES).select_related("patient")
    ).filter(balance__gt=0)


def invoice_balances() -> list[dict]:
    return [
        {
            "number": i.number,
            "patient": i.patient.full_name,
            "mrn": i.patient.mrn_display,
            "issued": timezone.localdate(i.issued_at),
            "total": money(i.total),
            "paid": money(i.paid_in - i.refunded),
            "credited": money(i.credited),
            "balance": money(i.balance),
            "status": i.get_status_display(),
        }
        for i in open_invoices().order_by("issued_at")
    ]


def patient_balances() -> list[dict]:
    rows: dict = {}
    for invoice in open_invoices():
        row = rows.setdefault(
            invoice.patient_id,
            {"patient": invoice.patient.full_name, "mrn": invoice.patient.mrn_display,
             "invoices": 0, "balance": ZERO, "patient_id": invoice.patient_id},
        )  # fmt: skip
        row["invoices"] += 1
        row["balance"] = money(row["balance"] + invoice.balance)
    return sorted(rows.values(), key=lambda r: -r["balance"])


def aging(today: date | None = None) -> list[dict]:
    """Accounts receivable by age since issue: 0–30, 31–60, 61–90, 90+ days."""
    today = today or timezone.localdate()
    buckets = [{"bucket": label, "invoices": 0, "amount": ZERO} for label, _, _ in AGING_BUCKETS]
    for invoice in open_invoices().only("issued_at", "total", "patient"):
        days = (today - timezone.localdate(invoice.issued_at)).days
        for row, (_label, low, high) in zip(buckets, AGING_BUCKETS, strict=True):
            if days >= low and (high is None or days <= high):
                row["invoices"] += 1
                row["amount"] = money(row["amount"] + invoice.balance)
                break
    return buckets


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def daily_cash(day: date) -> list[dict]:
    """Money taken and given back at the desk on `day`, per cashier and method (credit moved
    within a patient's account is not cash and is left out)."""
    start, end = day_range(day, day)
    rows = (
        Payment.objects.filter(received_at__gte=start, received_at__lt=end)
        .exclude(method=PaymentMethod.CREDIT)
        .order_by()
        .values(
            "received_by__email", "received_by__given_name", "received_by__family_name", "method"
        )  # fmt: skip
        .annotate(
            taken=Coalesce(
                Sum("amount", filter=Q(kind=PaymentKind.PAYMENT)), Value(ZERO), output_field=MONEY
            ),
            refunded=Coalesce(
                Sum("amount", filter=Q(kind=PaymentKind.REFUND)), Value(ZERO), output_field=MONEY
            ),
        )  # fmt: skip
        .order_by("received_by__family_name", "method")
    )
    labels = dict(PaymentMethod.choices)
    return [
        {
            "cashier": " ".join(
                filter(None, [r["received_by__given_name"], r["received_by__family_name"]])
            )
            or r["received_by__email"]
            or "System",
            "method": labels.get(r["method"], r["method"]),
            "taken": money(r["taken"]),
            "refunded": money(r["refunded"]),
            "net": money(r["taken"] - r["refunded"]),
        }
        for r in rows
    ]


def revenue(first: date, last: date) -> list[dict]:
    """Revenue by department and service, from the charges of issued invoices whose service
    date falls in the range (net of discounts, tax shown apart)."""
    rows = (
        Charge.objects.filter(
            status=ChargeStatus.POSTED,
            service_date__gte=first,
            service_date__lte=last,
            invoice__status__in=[*OPEN_STATUSES, InvoiceStatus.PAID],
        )  # fmt: skip
        .order_by()
        .values("department__name", "service_name", "kind")
        .annotate(net=Sum("line__net"), tax=Sum("line__tax"), total=Sum("line__total"))
        .order_by("department__name", "service_name")
    )
    return [
        {
            "department": r["department__name"] or "—",
            "service": r["service_name"] or r["kind"],
            "net": money(r["net"] or ZERO),
            "tax": money(r["tax"] or ZERO),
            "total": money(r["total"] or ZERO),
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    columns: tuple[str, ...]


REPORTS = {
    r.key: r
    for r in (
        Report("aging", "Accounts receivable aging", ("bucket", "invoices", "amount")),
        Report("invoices", "Balance per invoice", ("number", "patient", "mrn", "issued",
                                                   "total", "paid", "credited", "balance",
                                                   "status")),
        Report("patients", "Balance per patient", ("patient", "mrn", "invoices", "balance")),
        Report("cash", "Daily cash report", ("cashier", "method", "taken", "refunded", "net")),
        Report("revenue", "Revenue by department and service",
               ("department", "service", "net", "tax", "total")),
    )
}  # fmt: skip


def report_rows(key: str, *, first: date, last: date) -> list[dict]:
    if key == "aging":
        return aging(last)
    if key == "invoices":
        return invoice_balances()
    if key == "patients":
        return patient_balances()
    if key == "cash":
        return daily_cash(last)
    return revenue(first, last)


def chart_bars(rows: list[dict], *, width: int = 320, height: int = 120) -> list[dict]:
    """Bar geometry for the dashboard's inline SVG chart of the aging buckets."""
    top = max((row["amount"] for row in rows), default=ZERO) or Decimal(1)
    slot = width // max(len(rows), 1)
    bars = []
    for index, row in enumerate(rows):
        h = int(Decimal(height - 20) * row["amount"] / top)
        bars.append({
            "x": index * slot + 8, "y": height - 20 - h, "w": slot - 16, "h": h,
            "label": row["bucket"], "amount": row["amount"], "tx": index * slot + slot // 2,
        })  # fmt: skip
    return bars
