"""Demo billing: a price list matching the seeded services, the lab catalogue and the pharmacy's
medicines; two insurers and a covered patient; the consultations of the past weeks' completed
visits charged, invoiced and mostly paid (a few still owed, some of them weeks old), so every
billing page shows something on first run. Idempotent: the price list and the invoices are
made once."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from hms.accounts.models import User
from hms.billing import selectors, services
from hms.billing.models import Invoice, InvoiceStatus, Payer, Payment, PriceItem, PriceKind
from hms.clinical.rules import LAB_TESTS
from hms.core.demo import DemoContext
from hms.core.permissions import Role
from hms.patients.models import Patient
from hms.scheduling.models import Appointment, AppointmentStatus, Service

SINCE = date(2026, 1, 1)
CONSULTATION_PRICES = {"First consultation": Decimal("85.00"), "Follow-up": Decimal("45.00")}
LAB_PRICES = {"2345-7": "6.50", "718-7": "8.00", "6690-2": "9.50", "777-3": "7.50",
              "2951-2": "6.00", "2823-3": "6.00", "2160-0": "7.00", "59261-8": "14.00",
              "1988-5": "11.00", "3016-3": "16.00", "2093-3": "9.00"}  # fmt: skip
# Medicines by the pharmacy's item codes (inventory's demo formulary), price per unit issued.
MEDICINE_PRICES = {
    "PARA500": "0.10", "IBU400": "0.15", "AMOX500": "0.35", "COAMOX625": "0.90",
    "CLARI500": "1.10", "METF500": "0.12", "AMLO5": "0.10", "RAMI5": "0.12",
    "ATOR20": "0.12", "OMEP20": "0.12", "PRED5": "0.10", "SALB100": "4.50",
    "CETI10": "0.08", "SERT50": "0.15", "INSGLAR": "24.00",
}  # fmt: skip
OTHER_ITEMS = [
    ("ECG", "Electrocardiogram (ECG)", PriceKind.PROCEDURE, "35.00", "0"),
    ("DRESS", "Wound dressing", PriceKind.PROCEDURE, "15.00", "0"),
    ("SUTURE", "Suturing of a wound", PriceKind.PROCEDURE, "60.00", "0"),
    ("XRAY-CHEST", "Chest X-ray", PriceKind.PROCEDURE, "70.00", "0"),
    ("BED-DAY", "Bed-day, general ward", PriceKind.BED_DAY, "320.00", "0"),
    ("CERT", "Medical certificate", PriceKind.OTHER, "25.00", "20"),
    ("CRUTCH", "Crutches (pair)", PriceKind.CONSUMABLE, "28.00", "20"),
]


def _price_list() -> None:
    if PriceItem.objects.exists():
        return
    for service in Service.objects.select_related("department"):
        price = CONSULTATION_PRICES.get(service.name, Decimal("60.00"))
        services.price_item_create(
            actor=None, code=service.price_code or f"SVC-{service.pk}",
            name=f"{service.name}, {service.department.name}", kind=PriceKind.CONSULTATION,
            unit_price=price, valid_from=SINCE, service=service,
        )  # fmt: skip
    for code, test in LAB_TESTS.items():
        services.price_item_create(
            actor=None, code=f"LAB-{code}", name=test.name, kind=PriceKind.LAB,
            unit_price=Decimal(LAB_PRICES.get(code, "10.00")), valid_from=SINCE,
            lab_test_code=code,
        )  # fmt: skip
    for code, price in MEDICINE_PRICES.items():
        services.price_item_create(
            actor=None, code=f"MED-{code}", name=code, kind=PriceKind.MEDICINE,
            unit_price=Decimal(price), valid_from=SINCE, inventory_item_code=code,
        )  # fmt: skip
    for code, name, kind, price, tax in OTHER_ITEMS:
        services.price_item_create(actor=None, code=code, name=name, kind=kind,
                                   unit_price=Decimal(price), tax_rate=Decimal(tax),
                                   valid_from=SINCE)  # fmt: skip


def _insurance() -> Patient | None:
    if Payer.objects.exists():
        return None
    payer = services.payer_create(actor=None, name="Demo Health Insurance", code="DHI",
                                  contact="claims@demohealth.example")  # fmt: skip
    services.payer_create(actor=None, name="Northwind Mutual", code="NWM")
    covered = (
        Patient.objects.filter(merged_into__isnull=True, user__isnull=True).order_by("mrn").first()
    )
    if covered is not None:
        services.coverage_add(
            actor=None, patient=covered, payer=payer, policy_number="DHI-204-5531",
            plan="Silver", copay_kind="percent", copay_value=Decimal("20"), valid_from=SINCE,
        )  # fmt: skip
    return covered


def _backdate(invoice: Invoice, when) -> None:
    """Demo history: the invoice was issued (and its money taken) on the visit's day."""
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_at=when, due_date=timezone.localdate(when) + timedelta(days=30)
    )
    Payment.objects.filter(invoice=invoice).update(received_at=when + timedelta(minutes=20))


def _invoices(ctx: DemoContext, covered: Patient | None) -> None:
    if Invoice.objects.exists():
        return
    clerk = (
        User.objects.filter(email="billing@demo.hms").first()
        or User.objects.filter(role=Role.BILLING).first()
    )
    completed = list(
        Appointment.objects.filter(status=AppointmentStatus.COMPLETED)
        .select_related("service", "department")
        .order_by("start")
    )
    consultations = {
        item.service.department_id: item
        for item in PriceItem.objects.filter(
            kind=PriceKind.CONSULTATION, service__name="First consultation"
        ).select_related("service")
    }
    extras = list(PriceItem.objects.filter(Q(kind=PriceKind.LAB) | Q(code__in=["ECG", "DRESS"])))
    for n, appointment in enumerate(completed):
        item = consultations.get(appointment.department_id)
        if item is None:
            continue
        services.charge_post_for_source(
            actor=clerk, source_key=f"appointment:{appointment.pk}",
            patient_id=appointment.patient_id, price_item=item,
            department_id=appointment.department_id, service_name=item.service.name,
            service_date=timezone.localdate(appointment.start),
        )  # fmt: skip
        if n % 3 == 0 and extras:
            services.charge_add(actor=clerk, patient=appointment.patient,
                                price_item=ctx.rng.choice(extras),
                                department=appointment.department)  # fmt: skip
        draft = Invoice.objects.filter(patient_id=appointment.patient_id, status="draft").first()
        if draft is None:
            continue
        invoice = services.invoice_issue(actor=clerk, invoice=draft)
        if n % 4 != 3:  # most are paid at the desk; some stay owed
            due = selectors.patient_due(invoice)
            amount = due if n % 5 else (due / 2).quantize(Decimal("0.01"))
            if amount > 0:
                services.payment_take(actor=clerk, invoice=invoice, amount=amount,
                                      method=ctx.rng.choice(["cash", "card", "card"]))  # fmt: skip
        when = appointment.completed_at or appointment.start
        if n % 4 == 3 and n % 8 == 7:
            when -= timedelta(days=40)  # an older debt, for the aging report
        _backdate(invoice, when)
    own = Patient.objects.filter(user__email="patient@demo.hms").first()
    if own is not None:  # today: the portal shows a part-paid bill, the cash report a row
        services.charge_add(actor=clerk, patient=own, price_item=PriceItem.objects.get(code="ECG"))
        invoice = services.invoice_issue(
            actor=clerk, invoice=Invoice.objects.get(patient=own, status=InvoiceStatus.DRAFT)
        )
        services.payment_take(actor=clerk, invoice=invoice, amount=Decimal("20.00"),
                              method="card")  # fmt: skip
    if covered is not None:
        services.charge_add(actor=clerk, patient=covered,
                            price_item=PriceItem.objects.get(code="XRAY-CHEST"))  # fmt: skip
        invoice = services.invoice_issue(
            actor=clerk, invoice=Invoice.objects.get(patient=covered, status=InvoiceStatus.DRAFT)
        )
        services.claim_submit(actor=clerk, claim=invoice.claim)


def seed(ctx: DemoContext) -> None:
    _price_list()
    covered = _insurance()
    _invoices(ctx, covered)
