"""Factories of the stores; stock is only ever put in through the services (the ledger)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from hms.core.access import as_system
from hms.inventory import services
from hms.inventory.models import Item, ItemKind, Location, LocationKind, Lot, Supplier


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"ITEM{n:04d}")
    name = factory.Sequence(lambda n: f"Medicine {n}")
    generic_name = factory.SelfAttribute("name")
    kind = ItemKind.MEDICINE
    form = "tablet"
    strength = "500 mg"
    unit = "tablet"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC{n}")
    name = factory.Sequence(lambda n: f"Pharmacy {n}")
    kind = LocationKind.PHARMACY


def receive(item, location, quantity, *, batch=None, days=365, cost="1.00") -> Lot:
    """Put `quantity` of a new lot expiring in `days` into `location`, through the ledger."""
    with as_system():
        move = services.stock_receive(
            actor=None,
            item=item,
            location=location,
            batch_number=batch or f"B{Lot.objects.count() + 1}-{days}",
            expiry_date=timezone.localdate() + timedelta(days=days),
            quantity=quantity,
            unit_cost=Decimal(cost),
        )
    return move.lot
