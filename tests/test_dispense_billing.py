"""Across the pharmacy and billing: a dispense posts its medicine charge once, priced from the
price list by the inventory item's code (inventory and billing never import each other)."""

from decimal import Decimal

import pytest

from hms.billing import services as billing
from hms.billing.models import Charge
from hms.core.access import as_system
from hms.core.permissions import Role
from hms.inventory import services as inventory
from hms.inventory.tests.factories import ItemFactory, LocationFactory, receive
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_a_dispense_posts_one_priced_medicine_charge(make_user, django_capture_on_commit_callbacks):
    item, pharmacy = ItemFactory(code="AMOX500"), LocationFactory()
    receive(item, pharmacy, 20)
    with as_system():
        billing.price_item_create(
            actor=None, code="MED-AMOX500", name="Amoxicillin 500 mg", kind="medicine",
            unit_price=Decimal("0.40"), inventory_item_code="AMOX500",
        )  # fmt: skip
    patient = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        dispense = inventory.stock_dispense(
            actor=make_user(Role.PHARMACIST), item=item, location=pharmacy, quantity=15,
            patient=patient,
        )  # fmt: skip
    charge = Charge.objects.get(patient=patient)
    assert (charge.quantity, charge.unit_price) == (Decimal("15"), Decimal("0.40"))
    assert str(dispense.pk) in charge.source_key
    # The same event delivered again posts nothing more.
    with django_capture_on_commit_callbacks(execute=True), as_system():
        inventory.emit(
            "medication.dispensed", dispense_id=dispense.pk, patient_id=str(patient.pk),
            item_code="AMOX500", item_name="Amoxicillin", quantity=Decimal(15),
            prescription_id=None,
        )  # fmt: skip
    assert Charge.objects.filter(patient=patient).count() == 1
