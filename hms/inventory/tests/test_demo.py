"""The demo pharmacy: a formulary with stock, and alerts for the pharmacist on first run."""

import pytest
from django.core.management import call_command

from hms.clinical.models import Prescription
from hms.clinical.tests.factories import PrescriptionFactory
from hms.inventory.models import Alert, AlertKind, Item, PurchaseOrder, Supplier
from hms.inventory.selectors import ledger_differences

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_formulary_with_alerts_and_is_idempotent():
    waiting = PrescriptionFactory(drug="Atorvastatin", quantity=28)
    call_command("seed_demo", patients=2, verbosity=0)
    assert Item.objects.filter(kind="medicine").count() >= 50
    assert Supplier.objects.count() == 2
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 1
    assert Alert.objects.filter(kind=AlertKind.EXPIRING).count() >= 2
    assert PurchaseOrder.objects.filter(status="draft").count() == 1
    assert ledger_differences() == []
    # The clinic's active prescriptions of stocked medicines are in the dispensing queue.
    waiting.refresh_from_db()
    assert waiting.item_code == "ATOR20"
    assert not Prescription.objects.filter(status="active", drug="Amlodipine", item_code="")
    call_command("seed_demo", patients=2, verbosity=0)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 1
