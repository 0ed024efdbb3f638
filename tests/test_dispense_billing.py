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


def test_a_charge_that_fails_to_post_is_retried_by_the_dispatcher_not_lost(
    make_user, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from hms.core.models import OutboxEvent
    from hms.core.outbox import outbox_dispatch

    item, pharmacy = ItemFactory(code="IBU200"), LocationFactory()
    receive(item, pharmacy, 5)
    with as_system():
        billing.price_item_create(
            actor=None, code="MED-IBU200", name="Ibuprofen 200 mg", kind="medicine",
            unit_price=Decimal("0.10"), inventory_item_code="IBU200",
        )  # fmt: skip
    patient = PatientFactory()
    real_post = billing.charge_post_for_source
    monkeypatch.setattr(billing, "charge_post_for_source", _raise)
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_dispense(
            actor=make_user(Role.PHARMACIST), item=item, location=pharmacy, quantity=2,
            patient=patient,
        )  # fmt: skip
    assert not Charge.objects.filter(patient=patient).exists()
    event = OutboxEvent.objects.get(name="medication.dispensed")
    assert event.delivered_at is None and "billing.medicine_charge" in event.last_error
    monkeypatch.setattr(billing, "charge_post_for_source", real_post)
    outbox_dispatch(now=timezone.now() + timedelta(hours=2))  # after the backoff
    assert Charge.objects.get(patient=patient).quantity == Decimal("2")
    event.refresh_from_db()
    assert event.delivered_at is not None


def _raise(**_):
    raise RuntimeError("the billing database hiccuped")
