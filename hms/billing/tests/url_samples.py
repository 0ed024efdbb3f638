"""Arguments for the role-matrix test (tests/url_samples.py merges these in)."""

from datetime import date
from decimal import Decimal


def _issued_invoice():
    from hms.billing import services
    from hms.billing.models import Payer
    from hms.core.access import as_system
    from hms.patients.tests.factories import PatientFactory

    with as_system():
        patient = PatientFactory()
        payer = Payer.objects.first() or services.payer_create(actor=None, name="Matrix Health")
        services.coverage_add(
            actor=None, patient=patient, payer=payer, policy_number="M-1",
            copay_value=Decimal("10"), valid_from=date(2020, 1, 1),
        )  # fmt: skip
        charge = services.charge_add(
            actor=None, patient=patient, description="Matrix visit", unit_price=Decimal("100")
        )
        invoice = services.invoice_issue(actor=None, invoice=charge.invoice)
        payment = services.payment_take(actor=None, invoice=invoice, amount="5", method="cash")
    return invoice, payment, charge


def _invoice() -> dict:
    return {"pk": _issued_invoice()[0].pk}


def _payment() -> dict:
    return {"pk": _issued_invoice()[1].pk}


def _claim() -> dict:
    return {"pk": _issued_invoice()[0].claim.pk}


def _draft_charge() -> dict:
    from hms.billing import services
    from hms.core.access import as_system
    from hms.patients.tests.factories import PatientFactory

    with as_system():
        charge = services.charge_add(
            actor=None, patient=PatientFactory(), description="Dressing", unit_price=Decimal("8")
        )
    return {"pk": charge.pk}


def _patient() -> dict:
    from hms.patients.tests.factories import PatientFactory

    return {"patient_id": PatientFactory().pk}


def _price() -> dict:
    from hms.billing.tests.factories import PriceItemFactory

    return {"pk": PriceItemFactory().pk}


def _api(sample):
    def make() -> dict:
        return {"pk": str(sample()["pk"])}

    return make


URL_SAMPLES = {
    "billing:invoice": _invoice,
    "billing:invoice-pdf": _invoice,
    "billing:invoice-issue": _invoice,
    "billing:invoice-void": _invoice,
    "billing:credit-note-add": _invoice,
    "billing:payment-add": _invoice,
    "billing:payment-refund": _payment,
    "billing:receipt-pdf": _payment,
    "billing:price-change": _price,
    "billing:account": _patient,
    "billing:charge-add": _patient,
    "billing:coverage-add": _patient,
    "billing:charge-void": _draft_charge,
    "billing:claim-submit": _claim,
    "billing:claim-decide": _claim,
    "billing:claim-pay": _claim,
    "billing:report": lambda: {"key": "aging"},
    "billing:portal-invoice": _invoice,
    "billing:portal-invoice-pdf": _invoice,
    "billing:portal-receipt-pdf": _payment,
    "api-patient-balance": lambda: {"patient_id": str(_patient()["patient_id"])},
    "api-invoices-detail": _api(_invoice),
    "api-invoices-issue": _api(_invoice),
    "api-invoices-pdf": _api(_invoice),
    "api-invoices-void": _api(_invoice),
    "api-payments-detail": _api(_payment),
    "api-payments-refund": _api(_payment),
    "api-charges-detail": _api(_draft_charge),
    "api-charges-void": _api(_draft_charge),
    "api-claims-detail": _api(_claim),
    "api-claims-decide": _api(_claim),
    "api-claims-pay": _api(_claim),
    "api-claims-submit": _api(_claim),
}
