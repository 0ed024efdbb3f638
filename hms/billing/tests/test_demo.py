"""`seed_demo` gives every billing page something to show on first run."""

import io

import pytest
from django.core.management import call_command

from hms.billing.models import Claim, Coverage, Invoice, InvoiceStatus, PriceItem, PriceKind
from hms.scheduling.models import Service


@pytest.mark.django_db
def test_the_demo_has_a_price_list_paid_and_owed_invoices_and_a_covered_patient():
    call_command("seed_demo", patients=12, stdout=io.StringIO())
    for service in Service.objects.all():
        assert PriceItem.objects.filter(kind=PriceKind.CONSULTATION, service=service).exists()
    assert PriceItem.objects.filter(kind=PriceKind.LAB, lab_test_code="718-7").exists()
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert {InvoiceStatus.PAID, InvoiceStatus.ISSUED} <= statuses
    assert Invoice.objects.filter(patient__user__email="patient@demo.hms").exists()
    assert Coverage.objects.exists() and Claim.objects.filter(status="submitted").exists()
    before = Invoice.objects.count()
    call_command("seed_demo", patients=12, stdout=io.StringIO())
    assert Invoice.objects.count() == before
