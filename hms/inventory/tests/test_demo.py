"""The demo pharmacy: a formulary with stock, and alerts for the pharmacist on first run."""

import pytest
from django.core.management import call_command

from hms.clinical.models import Prescription
from hms.inventory.models import Alert, AlertKind, Item, PurchaseOrder, Supplier
from hms.inventory.selectors import ledger_differences

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_formulary_with_alerts_and_is_idempotent():
    call_command("seed_demo", patients=2, verbosity=0)
    assert Item.objects.filter(kind="medicine").count() >= 50
    assert Supplier.objects.count() == 2
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 1
    assert Alert.objects.filter(kind=AlertKind.EXPIRING).count() >= 2
    assert PurchaseOrder.objects.filter(status="draft").count() == 1
    assert ledger_differences() == []
    assert Prescription.objects.exclude(item_code="").exists()  # the queue has work
    call_command("seed_demo", patients=2, verbosity=0)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 1
