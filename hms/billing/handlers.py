"""Charges from care: billing listens to scheduling, clinical and inventory (which never import
it) through the outbox (hms/core/outbox.py): each charge is posted after the care's transaction
commits, retried by the dispatcher until it is posted, and once per source.

- `appointment.completed` -> the consultation of the appointment's service;
- `lab_result.recorded` -> the test of the lab order (once per order, however many analytes);
- `medication.dispensed` -> the medicine, priced by its inventory item code, times the quantity.

Nothing is posted when the price list has no item for what was done (the clerk adds it by
hand); a handler never makes the care fail: it runs after commit, and a failure is retried and,
in the end, shown as a failed delivery rather than lost.
"""

import logging
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from hms.billing import services
from hms.billing.models import PriceItem, PriceKind
from hms.core.events import subscribe_async

log = logging.getLogger(__name__)


def price_item_for(
    *, kind: str, service_id=None, price_code: str = "", lab_test_code: str = "",
    inventory_item_code: str = "", on: date | None = None,
) -> PriceItem | None:  # fmt: skip
    """The price-list item valid on `on` for what care did."""
    on = on or timezone.localdate()
    items = PriceItem.objects.filter(kind=kind, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    if kind == PriceKind.CONSULTATION:
        match = Q(service_id=service_id) if service_id else Q(pk__in=[])
        if price_code:
            match |= Q(code=price_code)
        items = items.filter(match)
    elif kind == PriceKind.LAB:
        items = items.filter(lab_test_code=lab_test_code)
    else:
        items = items.filter(inventory_item_code=inventory_item_code)
    return items.order_by("-valid_from").first()


def _from_outbox(event_name: str, name: str):
    """Register `handler(**payload)` as the durable subscriber `name` of `event_name`: the
    dispatcher calls it with the stored (plain) payload, as the system, and records the delivery
    in the same transaction as the charge."""

    def register(handler):
        @subscribe_async(event_name, name=name)
        def deliver(*, event) -> None:
            handler(**event.payload)

        return handler

    return register


@_from_outbox("appointment.completed", name="billing.consultation_charge")
def on_appointment_completed(
    *, appointment_id, patient_id, service_id=None, department_id=None, **_
) -> None:
    from hms.scheduling.models import Service

    service = Service.objects.filter(pk=service_id).first() if service_id else None
    item = price_item_for(
        kind=PriceKind.CONSULTATION, service_id=service_id,
        price_code=service.price_code if service else "",
    )  # fmt: skip
    if item is None:
        log.info("billing: no consultation price for appointment %s", appointment_id)
        return
    services.charge_post_for_source(
        actor=None, source_key=f"appointment:{appointment_id}", patient_id=patient_id,
        price_item=item, department_id=department_id,
        service_name=service.name if service else item.name,
    )  # fmt: skip


@_from_outbox("lab_result.recorded", name="billing.lab_charge")
def on_lab_result_recorded(*, lab_order_id, patient_id, test_code, **_) -> None:
    item = price_item_for(kind=PriceKind.LAB, lab_test_code=test_code)
    if item is None:
        log.info("billing: no price for lab test %s", test_code)
        return
    services.charge_post_for_source(
        actor=None, source_key=f"lab_order:{lab_order_id}", patient_id=patient_id,
        price_item=item, service_name="Laboratory",
    )  # fmt: skip


@_from_outbox("medication.dispensed", name="billing.medicine_charge")
def on_medication_dispensed(
    *, dispense_id, patient_id, item_code, quantity, item_name="", **_
) -> None:
    item = price_item_for(kind=PriceKind.MEDICINE, inventory_item_code=item_code) or price_item_for(
        kind=PriceKind.CONSUMABLE, inventory_item_code=item_code
    )
    if item is None:
        log.info("billing: no price for inventory item %s", item_code)
        return
    services.charge_post_for_source(
        actor=None, source_key=f"dispense:{dispense_id}", patient_id=patient_id,
        price_item=item, quantity=Decimal(str(quantity)),
        description=item_name or item.name, service_name="Pharmacy",
    )  # fmt: skip
