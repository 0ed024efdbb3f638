"""Every write of the stores and the pharmacy: one transaction each, permission first, audited.

The one rule that everything here keeps: stock changes only through `_apply`, which appends the
movement to the ledger and moves `on_hand` with a conditional UPDATE (`on_hand >= q` for an
outflow) in the same transaction. Two pharmacists dispensing the last units at once cannot both
succeed: the second UPDATE matches no row (PostgreSQL re-checks the condition after the first
commits; SQLite's writers queue at BEGIN), and the CHECK constraint `on_hand >= 0` stands
behind it.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from hms.accounts.models import User
from hms.clinical.models import Prescription, PrescriptionStatus
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.events import emit
from hms.core.notifications import notify
from hms.core.permissions import Perm, Role, role_has_perm
from hms.inventory.models import (
    OPEN_ORDER_STATUSES,
    AdjustmentReason,
    Alert,
    AlertKind,
    Dispense,
    Item,
    ItemKind,
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementKind,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderLevel,
    Stock,
    Supplier,
)
from hms.patients.locks import lock_patient
from hms.patients.models import Patient


class InsufficientStock(Conflict):
    """Not enough unexpired stock at the location: nothing was taken."""

    code = "insufficient_stock"


def _positive(quantity, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int | Decimal) or quantity <= 0:
        raise DomainError("The quantity must be a positive whole number.", fields={field: "> 0"})
    if isinstance(quantity, Decimal):
        if quantity != quantity.to_integral_value():
            raise DomainError("Stock is counted in whole units.", fields={field: "whole units"})
        quantity = int(quantity)
    return quantity


# --- The one path that changes stock -------------------------------------------------------------


def _apply(
    *,
    lot: Lot,
    location: Location,
    quantity: int,
    kind: str,
    actor: User | None,
    reason: str = "",
    reference: str = "",
    dispense: Dispense | None = None,
    order_line: PurchaseOrderLine | None = None,
    note: str = "",
) -> Movement:
    """Move `quantity` (signed) of `lot` at `location` and append the movement. An outflow is a
    conditional UPDATE that matches nothing when fewer units are on hand: InsufficientStock."""
    if quantity < 0:
        taken = Stock.objects.filter(lot=lot, location=location, on_hand__gte=-quantity).update(
            on_hand=F("on_hand") + quantity
        )
        if not taken:
            raise InsufficientStock(
                f"Not enough of {lot.item} (lot {lot.batch_number}) at {location}."
            )
        if not Stock.objects.filter(lot=lot, on_hand__gt=0).exists():
            # The lot is used up or written off everywhere: its expiry alert has no object.
            Alert.objects.filter(lot=lot, kind=AlertKind.EXPIRING, resolved_at__isnull=True).update(
                resolved_at=timezone.now()
            )
    else:
        added = Stock.objects.filter(lot=lot, location=location).update(
            on_hand=F("on_hand") + quantity
        )
        if not added:
            try:
                with transaction.atomic():  # a savepoint: another request may create it first
                    Stock.objects.create(
                        item_id=lot.item_id, lot=lot, location=location, on_hand=quantity
                    )
            except IntegrityError:
                Stock.objects.filter(lot=lot, location=location).update(
                    on_hand=F("on_hand") + quantity
                )
    return Movement.objects.create(
        kind=kind,
        reason=reason,
        item_id=lot.item_id,
        lot=lot,
        location=location,
        quantity=quantity,
        reference=reference,
        dispense=dispense,
        order_line=order_line,
        note=note[:300],
        actor=actor if getattr(actor, "pk", None) else None,
    )


def on_hand_of(*, item: Item, location: Location) -> int:
    return Stock.objects.filter(item=item, location=location).aggregate(t=Sum("on_hand"))["t"] or 0


def _usable_stock(item: Item, location: Location, today: date):
    """Stock that may be picked, first expiry first (lots without an expiry date last);
    expired lots never."""
    return (
        Stock.objects.filter(item=item, location=location, on_hand__gt=0)
        .filter(Q(lot__expiry_date__isnull=True) | Q(lot__expiry_date__gte=today))
        .select_related("lot")
        .order_by(F("lot__expiry_date").asc(nulls_last=True), "lot_id")
    )


def _pick_fefo(
    *, item: Item, location: Location, quantity: int, kind: str, actor, **movement
) -> list[Movement]:
    """Take `quantity` from the location's unexpired lots, first expiry first. Each take is a
    conditional UPDATE; a lot emptied meanwhile by someone else is re-read and the rest taken
    from the next lot. Short of stock: InsufficientStock, and the caller's transaction undoes
    every take."""
    today = timezone.localdate()
    remaining, moves = quantity, []
    for stock in _usable_stock(item, location, today):
        while remaining:
            available = Stock.objects.filter(pk=stock.pk).values_list("on_hand", flat=True).first()
            take = min(remaining, available or 0)
            if not take:
                break
            try:
                with transaction.atomic():
                    moves.append(
                        _apply(
                            lot=stock.lot,
                            location=location,
                            quantity=-take,
                            kind=kind,
                            actor=actor,
                            **movement,
                        )  # fmt: skip
                    )
            except InsufficientStock:
                continue  # taken by someone else between the read and the update: read again
            remaining -= take
        if not remaining:
            break
    if remaining:
        raise InsufficientStock(
            f"Only {quantity - remaining} {item.unit}(s) of {item} can be taken at {location}: "
            f"{quantity} asked (expired lots are never issued).",
            fields={"quantity": f"{quantity - remaining} available"},
        )
    return moves


# --- Alerts --------------------------------------------------------------------------------------


def _pharmacists():
    roles = [r for r in Role if role_has_perm(r, Perm.DISPENSE)]
    return User.objects.filter(role__in=roles, is_active=True)


def _tell_pharmacists(title: str, body: str, url: str) -> None:
    for user in _pharmacists():
        notify(user=user, title=title, body=body, url=url)


def _check_low_stock(item: Item, location: Location) -> None:
    """Raise the low-stock alert when on-hand crosses down to the reorder level, once: the
    conditional UPDATE of `low_since` lets exactly one movement claim the crossing. Clear it
    when stock rises above the level again."""
    level = ReorderLevel.objects.filter(item=item, location=location).first()
    if level is None:
        return
    on_hand = on_hand_of(item=item, location=location)
    if on_hand <= level.level:
        claimed = ReorderLevel.objects.filter(pk=level.pk, low_since__isnull=True).update(
            low_since=timezone.now()
        )
        if not claimed:
            return
        message = (
            f"{item} at {location}: {on_hand} {item.unit}(s) on hand, "
            f"at or below the reorder level of {level.level}."
        )
        Alert.objects.create(
            kind=AlertKind.LOW_STOCK, item=item, location=location, message=message
        )
        order = _propose_order(item=item, location=location, quantity=level.quantity)
        _tell_pharmacists(f"Low stock: {item}", message, reverse("inventory:item", args=[item.pk]))
        emit(
            "stock.low",
            item_id=item.pk,
            item_code=item.code,
            location_id=location.pk,
            on_hand=on_hand,
            reorder_level=level.level,
            order_id=order.pk if order else None,
        )
    elif level.low_since is not None and _clear_low(level):
        Alert.objects.filter(
            kind=AlertKind.LOW_STOCK, item=item, location=location, resolved_at__isnull=True
        ).update(resolved_at=timezone.now())


def _clear_low(level: ReorderLevel) -> bool:
    """Stock is back above the level: the next fall through it is a new crossing."""
    return bool(
        ReorderLevel.objects.filter(pk=level.pk, low_since__isnull=False).update(low_since=None)
    )


def _check_expiring(lot: Lot, location: Location | None = None) -> bool:
    """Raise the expiry alert for a lot with stock that expires within the warning window,
    once per lot."""
    if lot.expiry_date is None:
        return False
    horizon = timezone.localdate() + timedelta(days=settings.INVENTORY_EXPIRY_WARNING_DAYS)
    if lot.expiry_date > horizon:
        return False
    if not Stock.objects.filter(lot=lot, on_hand__gt=0).exists():
        return False
    if not Lot.objects.filter(pk=lot.pk, expiry_alerted_at__isnull=True).update(
        expiry_alerted_at=timezone.now()
    ):
        return False
    expired = lot.expiry_date < timezone.localdate()
    message = (
        f"{lot.item}, lot {lot.batch_number}: "
        f"{'expired' if expired else 'expires'} {lot.expiry_date:%Y-%m-%d}."
    )
    Alert.objects.create(
        kind=AlertKind.EXPIRING, item_id=lot.item_id, lot=lot, location=location, message=message
    )
    _tell_pharmacists(
        f"Expiring: {lot.item}", message, reverse("inventory:item", args=[lot.item_id])
    )
    emit(
        "lot.expiring",
        lot_id=lot.pk,
        item_id=lot.item_id,
        item_code=lot.item.code,
        batch_number=lot.batch_number,
        expiry_date=lot.expiry_date,
    )
    return True


def lots_expiring_sweep() -> int:
    """The daily job: lots that entered the expiry window since yesterday raise their alert
    (once each). Returns how many were raised."""
    horizon = timezone.localdate() + timedelta(days=settings.INVENTORY_EXPIRY_WARNING_DAYS)
    raised = 0
    lots = Lot.objects.filter(
        expiry_alerted_at__isnull=True, expiry_date__lte=horizon, stock__on_hand__gt=0
    ).distinct()
    for lot in lots.select_related("item"):
        with transaction.atomic():
            raised += _check_expiring(lot)
    return raised


def alert_resolve(*, actor: User, alert: Alert) -> Alert:
    """Close an alert by hand (a low-stock one also closes itself when stock rises)."""
    require(actor, Perm.INVENTORY_WRITE)
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        audit_record(action="inventory.alert_resolve", actor=actor, obj=alert)
    alert.refresh_from_db()
    return alert


# --- Catalogue and locations ---------------------------------------------------------------------

ITEM_FIELDS = (
    "name", "kind", "generic_name", "brand", "form", "strength", "unit", "atc_code",
    "unit_of_issue", "pack_size", "preferred_supplier", "is_active",
)  # fmt: skip


def _check_item_fields(fields: dict) -> None:
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "kind" in fields and fields["kind"] not in ItemKind.values:
        raise DomainError("Unknown kind.", fields={"kind": "medicine, consumable or equipment"})
    if "name" in fields and not str(fields["name"]).strip():
        raise DomainError("Name the item.", fields={"name": "This field is required."})
    if "pack_size" in fields:
        _positive(fields["pack_size"], "pack_size")


def item_create(*, actor: User, code: str, name: str, **fields) -> Item:
    """Add an item to the catalogue; its code is unique."""
    require(actor, Perm.INVENTORY_WRITE)
    code = code.strip().upper()
    if not code:
        raise DomainError("Give the item a code.", fields={"code": "This field is required."})
    _check_item_fields({"name": name, **fields})
    with transaction.atomic():
        if Item.objects.filter(code=code).exists():
            raise Conflict(f"Code {code} is taken.", code="duplicate", fields={"code": "Taken."})
        item = Item.objects.create(code=code, name=name.strip(), **fields)
        audit_record(action="inventory.item_create", actor=actor, obj=item, details={"code": code})
    return item


def item_update(*, actor: User, item: Item, **fields) -> Item:
    """Change a catalogue entry (its code stays)."""
    require(actor, Perm.INVENTORY_WRITE)
    _check_item_fields(fields)
    with transaction.atomic():
        Item.objects.filter(pk=item.pk).update(**fields, updated_at=timezone.now())
        item.refresh_from_db()
        audit_record(action="inventory.item_update", actor=actor, obj=item, details=sorted(fields))
    return item


def location_create(*, actor: User, code: str, name: str, kind: str, department=None) -> Location:
    """A store, the pharmacy or a ward."""
    require(actor, Perm.INVENTORY_WRITE)
    if kind not in LocationKind.values:
        raise DomainError("Unknown kind of location.", fields={"kind": "store, pharmacy or ward"})
    code = code.strip().upper()
    with transaction.atomic():
        if Location.objects.filter(code=code).exists():
            raise Conflict(f"Code {code} is taken.", code="duplicate", fields={"code": "Taken."})
        location = Location.objects.create(
            code=code, name=name.strip(), kind=kind, department=department
        )
        audit_record(action="inventory.location_create", actor=actor, obj=location)
    return location


def reorder_level_set(
    *, actor: User, item: Item, location: Location, level: int, quantity: int
) -> ReorderLevel:
    """Set when `item` at `location` counts as low, and how much to order then. A new level
    that stock is already at or below raises the alert at once."""
    require(actor, Perm.INVENTORY_WRITE)
    if level < 0 or quantity < 0:
        raise DomainError("Levels cannot be negative.", fields={"level": ">= 0"})
    with transaction.atomic():
        rule, _ = ReorderLevel.objects.update_or_create(
            item=item, location=location, defaults={"level": level, "quantity": quantity}
        )
        audit_record(
            action="inventory.reorder_level_set",
            actor=actor,
            obj=rule,
            details={"item": item.code, "location": location.code, "level": level},
        )
        _check_low_stock(item, location)
    return rule


def supplier_create(*, actor: User, name: str, email: str = "", phone: str = "",
                    address: str = "") -> Supplier:  # fmt: skip
    """A supplier the hospital orders from."""
    require(actor, Perm.INVENTORY_WRITE)
    name = name.strip()
    if not name:
        raise DomainError("Name the supplier.", fields={"name": "This field is required."})
    with transaction.atomic():
        if Supplier.objects.filter(name__iexact=name).exists():
            raise Conflict("That supplier exists.", code="duplicate", fields={"name": "Taken."})
        supplier = Supplier.objects.create(name=name, email=email, phone=phone, address=address)
        audit_record(action="inventory.supplier_create", actor=actor, obj=supplier)
    return supplier


# --- Stock movements -----------------------------------------------------------------------------


def _lot_for_receipt(
    *, item: Item, batch_number: str, expiry_date: date | None, unit_cost: Decimal, supplier
) -> Lot:
    batch_number = batch_number.strip()
    if not batch_number:
        raise DomainError("Give the batch number.", fields={"lot": "This field is required."})
    if item.kind == ItemKind.MEDICINE and expiry_date is None:
        raise DomainError(
            "A medicine's lot needs its expiry date.", fields={"expiry_date": "Required."}
        )
    if unit_cost is None or Decimal(unit_cost) < 0:
        raise DomainError("The unit cost cannot be negative.", fields={"unit_cost": ">= 0"})
    lot, created = Lot.objects.get_or_create(
        item=item,
        batch_number=batch_number,
        defaults={"expiry_date": expiry_date, "unit_cost": unit_cost, "supplier": supplier},
    )
    if not created and lot.expiry_date != expiry_date:
        raise Conflict(
            f"Lot {batch_number} of {item} is recorded with expiry {lot.expiry_date}.",
            code="lot_mismatch",
            fields={"expiry_date": f"Lot {batch_number} expires {lot.expiry_date}."},
        )
    return lot


def _receive(
    *, actor, item, location, batch_number, expiry_date, quantity, unit_cost, supplier=None,
    order_line=None, reference="",
) -> Movement:  # fmt: skip
    quantity = _positive(quantity)
    if expiry_date is not None and expiry_date < timezone.localdate():
        raise DomainError(
            "This lot has expired: it cannot be received into stock.",
            code="lot_expired",
            fields={"expiry_date": "In the past."},
        )
    lot = _lot_for_receipt(
        item=item, batch_number=batch_number, expiry_date=expiry_date,
        unit_cost=unit_cost, supplier=supplier,
    )  # fmt: skip
    move = _apply(
        lot=lot, location=location, quantity=quantity, kind=MovementKind.RECEIPT, actor=actor,
        order_line=order_line, reference=reference,
    )  # fmt: skip
    _check_low_stock(item, location)
    _check_expiring(lot, location)
    return move


def stock_receive(
    *,
    actor: User,
    item: Item,
    location: Location,
    batch_number: str,
    expiry_date: date | None,
    quantity: int,
    unit_cost: Decimal = Decimal("0"),
    supplier: Supplier | None = None,
) -> Movement:
    """Receive a lot into a location (outside a purchase order: a donation, an opening
    balance). An expired lot is refused."""
    require(actor, Perm.INVENTORY_WRITE)
    with transaction.atomic():
        move = _receive(
            actor=actor, item=item, location=location, batch_number=batch_number,
            expiry_date=expiry_date, quantity=quantity, unit_cost=unit_cost, supplier=supplier,
        )  # fmt: skip
        audit_record(
            action="inventory.receive",
            actor=actor,
            obj=move,
            details={"item": item.code, "lot": batch_number, "quantity": move.quantity},
        )
    return move


def stock_adjust(
    *, actor: User, lot: Lot, location: Location, quantity: int, reason: str, note: str = ""
) -> Movement:
    """Correct stock by a signed quantity with a reason (count, damage, expiry). Never below
    zero."""
    require(actor, Perm.INVENTORY_WRITE)
    if reason not in AdjustmentReason.values:
        raise DomainError("Give a reason.", fields={"reason": "count, damage or expiry"})
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise DomainError("The adjustment must be a non-zero whole number.",
                          fields={"quantity": "non-zero"})  # fmt: skip
    with transaction.atomic():
        move = _apply(
            lot=lot, location=location, quantity=quantity, kind=MovementKind.ADJUSTMENT,
            actor=actor, reason=reason, note=note,
        )  # fmt: skip
        _check_low_stock(lot.item, location)
        audit_record(
            action="inventory.adjust",
            actor=actor,
            obj=move,
            details={"lot": lot.batch_number, "quantity": quantity, "reason": reason},
        )
    return move


def _move_between(*, actor, item, source, destination, quantity, kind) -> list[Movement]:
    quantity = _positive(quantity)
    if source.pk == destination.pk:
        raise DomainError("Choose two different locations.", fields={"destination": "Same."})
    reference = uuid.uuid4().hex
    outs = _pick_fefo(
        item=item, location=source, quantity=quantity, kind=kind, actor=actor, reference=reference
    )
    ins = [
        _apply(
            lot=out.lot,
            location=destination,
            quantity=-out.quantity,
            kind=kind,
            actor=actor,
            reference=reference,
        )  # fmt: skip
        for out in outs
    ]
    _check_low_stock(item, source)
    _check_low_stock(item, destination)
    return outs + ins


def stock_transfer(
    *, actor: User, item: Item, source: Location, destination: Location, quantity: int
) -> list[Movement]:
    """Move stock between stores, first expiry first."""
    require(actor, Perm.INVENTORY_WRITE)
    with transaction.atomic():
        moves = _move_between(
            actor=actor, item=item, source=source, destination=destination,
            quantity=quantity, kind=MovementKind.TRANSFER,
        )  # fmt: skip
        audit_record(
            action="inventory.transfer",
            actor=actor,
            obj=item,
            details={"from": source.code, "to": destination.code, "quantity": quantity},
        )
    return moves


def stock_issue(*, actor: User, item: Item, source: Location, ward: Location,
                quantity: int) -> list[Movement]:  # fmt: skip
    """Issue stock to a ward (its department's consumption), first expiry first."""
    require(actor, Perm.INVENTORY_WRITE)
    if ward.kind != LocationKind.WARD:
        raise DomainError("Issue to a ward.", fields={"ward": "Not a ward."})
    with transaction.atomic():
        moves = _move_between(
            actor=actor, item=item, source=source, destination=ward,
            quantity=quantity, kind=MovementKind.ISSUE,
        )  # fmt: skip
        audit_record(
            action="inventory.issue",
            actor=actor,
            obj=item,
            details={"from": source.code, "to": ward.code, "quantity": quantity},
        )
    return moves


def stock_return(*, actor: User, lot: Lot, location: Location, quantity: int,
                 note: str = "") -> Movement:  # fmt: skip
    """Take back unused, unexpired stock (from a ward or a patient) into a location."""
    require(actor, Perm.INVENTORY_WRITE)
    quantity = _positive(quantity)
    if lot.is_expired():
        raise DomainError("An expired lot is not taken back into stock.", code="lot_expired")
    with transaction.atomic():
        move = _apply(
            lot=lot, location=location, quantity=quantity, kind=MovementKind.RETURN, actor=actor,
            note=note,
        )  # fmt: skip
        _check_low_stock(lot.item, location)
        audit_record(
            action="inventory.return",
            actor=actor,
            obj=move,
            details={"lot": lot.batch_number, "quantity": quantity},
        )
    return move


# --- Dispensing ----------------------------------------------------------------------------------


def dispensed_quantity(prescription_id) -> int:
    return (
        Dispense.objects.filter(prescription_id=prescription_id).aggregate(t=Sum("quantity"))["t"]
        or 0
    )


def stock_dispense(
    *,
    actor: User,
    item: Item,
    location: Location,
    quantity: int,
    patient: Patient | None = None,
    prescription: Prescription | None = None,
) -> Dispense:
    """Hand medicine to a patient, first expiry first, never from an expired lot; against an
    active prescription (partly: the rest stays pending) or, without one, to a named patient.
    Emits `medication.dispensed`, which billing turns into a charge."""
    require(actor, Perm.DISPENSE, "Only the pharmacy dispenses.")
    quantity = _positive(quantity)
    if prescription is None and patient is None:
        raise DomainError("Name the prescription or the patient.",
                          fields={"prescription": "This field is required."})  # fmt: skip
    if not item.is_active:
        raise DomainError("This item is no longer in use.", code="inactive_item")
    with transaction.atomic():
        # The lock order of the record (hms/patients/locks.py): the patient row first.
        asked_for = prescription.patient_id if prescription is not None else patient.pk
        locked = lock_patient(asked_for)
        if locked is None or not locked.is_current:
            raise Conflict(
                "This record was merged into another one; dispense there.", code="patient_merged"
            )
        if prescription is not None:
            # Then the prescription: two pharmacists dispensing it at once do not both hand out
            # the full remainder.
            prescription = (
                Prescription.objects.select_for_update().filter(pk=prescription.pk).first()
            )
            if prescription is None:
                raise NotFound("No such prescription.")
            if prescription.patient_id != asked_for:
                raise Conflict("The prescription moved to another record; try again.",
                               code="patient_merged")  # fmt: skip
            if prescription.status != PrescriptionStatus.ACTIVE:
                raise Conflict("The prescription is not active.", code="not_active")
            if patient is not None and patient.pk != prescription.patient_id:
                raise DomainError("The prescription is another patient's.",
                                  code="wrong_patient")  # fmt: skip
            if prescription.item_code and prescription.item_code != item.code:
                raise DomainError(
                    f"The prescription is for {prescription.drug}, not {item}.",
                    code="wrong_item",
                    fields={"item": "Not the prescribed medicine."},
                )
            if prescription.quantity:
                remaining = prescription.quantity - dispensed_quantity(prescription.pk)
                if quantity > remaining:
                    raise Conflict(
                        f"Only {remaining} of {prescription.quantity} remain to dispense.",
                        code="over_prescribed",
                        fields={"quantity": f"at most {remaining}"},
                    )
            patient_id = prescription.patient_id
        else:
            patient_id = patient.pk
        dispense = Dispense.objects.create(
            item=item,
            location=location,
            patient_id=patient_id,
            prescription=prescription,
            quantity=quantity,
            dispensed_by=actor if getattr(actor, "pk", None) else None,
        )
        moves = _pick_fefo(
            item=item, location=location, quantity=quantity, kind=MovementKind.DISPENSE,
            actor=actor, dispense=dispense,
        )  # fmt: skip
        _check_low_stock(item, location)
        audit_record(
            action="inventory.dispense",
            actor=actor,
            obj=dispense,
            patient=patient_id,
            details={
                "item": item.code,
                "quantity": quantity,
                "lots": [m.lot.batch_number for m in moves],
                "prescription": str(prescription.pk) if prescription else None,
            },
        )
        emit(
            "medication.dispensed",
            dispense_id=dispense.pk,
            patient_id=str(patient_id),
            item_code=item.code,
            item_name=item.label,
            quantity=Decimal(quantity),
            prescription_id=str(prescription.pk) if prescription else None,
        )
    return dispense


# --- Procurement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineIn:
    item: Item
    quantity: int
    unit_cost: Decimal = Decimal("0")


def _last_cost(item: Item) -> Decimal:
    lot = Lot.objects.filter(item=item).order_by("-created_at").only("unit_cost").first()
    return lot.unit_cost if lot else Decimal("0")


def _propose_order(*, item: Item, location: Location, quantity: int) -> PurchaseOrder | None:
    """Low stock proposes a draft order of the reorder quantity from the preferred supplier,
    unless an open order already has the item for this location; a draft to the same supplier
    and location takes the line instead of a new order."""
    supplier = item.preferred_supplier
    if supplier is None or quantity <= 0:
        return None
    already = PurchaseOrderLine.objects.filter(
        item=item, order__location=location, order__status__in=OPEN_ORDER_STATUSES
    )
    if already.exists():
        return None
    order = (
        PurchaseOrder.objects.select_for_update()
        .filter(supplier=supplier, location=location, status=OrderStatus.DRAFT)
        .first()
    )
    if order is None:
        order = PurchaseOrder.objects.create(
            supplier=supplier, location=location, note="Proposed: stock at the reorder level."
        )
    PurchaseOrderLine.objects.create(
        order=order, item=item, quantity=quantity, unit_cost=_last_cost(item)
    )
    audit_record(
        action="inventory.order_propose",
        obj=order,
        details={"item": item.code, "quantity": quantity},
    )
    return order


def purchase_order_create(
    *, actor: User, supplier: Supplier, location: Location, lines: list[OrderLineIn],
    note: str = "",
) -> PurchaseOrder:  # fmt: skip
    """A draft order to a supplier, delivered to `location`."""
    require(actor, Perm.INVENTORY_WRITE)
    if not lines:
        raise DomainError("Order at least one item.", fields={"lines": "Empty."})
    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            supplier=supplier, location=location, note=note[:300], created_by=actor
        )
        for line in lines:
            PurchaseOrderLine.objects.create(
                order=order,
                item=line.item,
                quantity=_positive(line.quantity),
                unit_cost=line.unit_cost,
            )
        audit_record(action="inventory.order_create", actor=actor, obj=order)
    return order


_NEXT = {
    "approve": ((OrderStatus.DRAFT,), OrderStatus.APPROVED),
    "send": ((OrderStatus.APPROVED,), OrderStatus.SENT),
    "cancel": ((OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.SENT), OrderStatus.CANCELLED),
}


def _order_step(actor: User, order: PurchaseOrder, step: str) -> PurchaseOrder:
    require(actor, Perm.INVENTORY_WRITE)
    allowed, to = _NEXT[step]
    stamps = {"approve": {"approved_by": actor, "approved_at": timezone.now()},
              "send": {"sent_at": timezone.now()}}.get(step, {})  # fmt: skip
    with transaction.atomic():
        moved = PurchaseOrder.objects.filter(pk=order.pk, status__in=allowed).update(
            status=to, updated_at=timezone.now(), **stamps
        )
        if not moved:
            order.refresh_from_db()
            raise Conflict(
                f"A {order.get_status_display().lower()} order cannot be {to.label.lower()}.",
                code="wrong_status",
            )
        order.refresh_from_db()
        audit_record(action=f"inventory.order_{step}", actor=actor, obj=order)
    return order


def purchase_order_approve(*, actor: User, order: PurchaseOrder) -> PurchaseOrder:
    """draft -> approved."""
    return _order_step(actor, order, "approve")


def purchase_order_send(*, actor: User, order: PurchaseOrder) -> PurchaseOrder:
    """approved -> sent (to the supplier, with the PDF)."""
    return _order_step(actor, order, "send")


def purchase_order_cancel(*, actor: User, order: PurchaseOrder) -> PurchaseOrder:
    """Cancel an order nothing has been received against."""
    return _order_step(actor, order, "cancel")


@dataclass(frozen=True)
class ReceiptLineIn:
    line: PurchaseOrderLine
    batch_number: str
    expiry_date: date | None
    quantity: int
    unit_cost: Decimal | None = None


def purchase_order_receive(
    *, actor: User, order: PurchaseOrder, lines: list[ReceiptLineIn]
) -> PurchaseOrder:
    """A goods receipt: each line's lot, expiry and cost become receipt movements into the
    order's location; the order is partly received, or received when nothing is outstanding."""
    require(actor, Perm.INVENTORY_WRITE)
    if not lines:
        raise DomainError("Receive at least one line.", fields={"lines": "Empty."})
    with transaction.atomic():
        order = PurchaseOrder.objects.select_for_update().filter(pk=order.pk).first()
        if order is None:
            raise NotFound("No such order.")
        if order.status not in (OrderStatus.SENT, OrderStatus.PARTLY_RECEIVED,
                                OrderStatus.APPROVED):  # fmt: skip
            raise Conflict(
                f"A {order.get_status_display().lower()} order cannot be received.",
                code="wrong_status",
            )
        for entry in lines:
            if entry.line.order_id != order.pk:
                raise DomainError("That line is another order's.", fields={"line": "Wrong."})
            quantity = _positive(entry.quantity)
            if not PurchaseOrderLine.objects.filter(
                pk=entry.line.pk, quantity__gte=F("received_quantity") + quantity
            ).update(received_quantity=F("received_quantity") + quantity):
                raise Conflict(
                    f"More {entry.line.item} than ordered.",
                    code="over_received",
                    fields={"quantity": "More than outstanding."},
                )
            cost = entry.unit_cost if entry.unit_cost is not None else entry.line.unit_cost
            _receive(
                actor=actor, item=entry.line.item, location=order.location,
                batch_number=entry.batch_number, expiry_date=entry.expiry_date,
                quantity=quantity, unit_cost=cost, supplier=order.supplier,
                order_line=entry.line, reference=order.number,
            )  # fmt: skip
        complete = not order.lines.filter(received_quantity__lt=F("quantity")).exists()
        order.status = OrderStatus.RECEIVED if complete else OrderStatus.PARTLY_RECEIVED
        PurchaseOrder.objects.filter(pk=order.pk).update(
            status=order.status,
            received_at=timezone.now() if complete else None,
            updated_at=timezone.now(),
        )
        order.refresh_from_db()
        audit_record(
            action="inventory.order_receive",
            actor=actor,
            obj=order,
            details={"lines": len(lines), "complete": complete},
        )
    return order


# --- Catalogue CSV -------------------------------------------------------------------------------

CATALOGUE_COLUMNS = (
    "code", "name", "kind", "generic_name", "brand", "form", "strength", "unit", "atc_code",
    "unit_of_issue", "pack_size", "is_active",
)  # fmt: skip
_LIMITS = {"code": 40, "name": 200, "generic_name": 200, "brand": 200, "form": 60,
           "strength": 60, "unit": 30, "atc_code": 10, "unit_of_issue": 30}  # fmt: skip
CATALOGUE_MAX_ROWS = 5000


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: list[tuple[int, str, str]]  # (line, field, message)


def _catalogue_row(row: dict) -> tuple[dict, list[tuple[str, str]]]:
    errors, data = [], {}
    for column, limit in _LIMITS.items():
        value = (row.get(column) or "").strip()
        if len(value) > limit:
            errors.append((column, f"at most {limit} characters"))
        data[column] = value
    data["code"] = data["code"].upper()
    if not data["code"]:
        errors.append(("code", "required"))
    if not data["name"]:
        errors.append(("name", "required"))
    data["kind"] = (row.get("kind") or "medicine").strip().lower()
    if data["kind"] not in ItemKind.values:
        errors.append(("kind", "medicine, consumable or equipment"))
    data["unit"] = data["unit"] or "unit"
    pack = (row.get("pack_size") or "1").strip()
    if not (pack.isascii() and pack.isdigit()) or not 1 <= int(pack) <= 1_000_000:
        errors.append(("pack_size", "a whole number from 1"))
    else:
        data["pack_size"] = int(pack)
    active = (row.get("is_active") or "yes").strip().lower()
    if active not in ("yes", "no", "true", "false", "1", "0"):
        errors.append(("is_active", "yes or no"))
    data["is_active"] = active in ("yes", "true", "1")
    return data, errors


def catalogue_import(*, actor: User, rows: list[dict]) -> ImportReport:
    """Create or update catalogue items from CSV rows (a header line names the columns). A bad
    row is reported with its line and field and imports nothing; the good rows are imported."""
    require(actor, Perm.INVENTORY_WRITE)
    if len(rows) > CATALOGUE_MAX_ROWS:
        raise DomainError(f"At most {CATALOGUE_MAX_ROWS} rows at a time.", code="too_many_rows")
    created = updated = 0
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    with transaction.atomic():
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            data, problems = _catalogue_row(row)
            if data["code"] in seen:
                problems.append(("code", f"repeats line {seen[data['code']]}"))
            if problems:
                errors += [(line, field, message) for field, message in problems]
                continue
            seen[data["code"]] = line
            code = data.pop("code")
            _, was_created = Item.objects.update_or_create(code=code, defaults=data)
            created, updated = created + was_created, updated + (not was_created)
        audit_record(
            action="inventory.catalogue_import",
            actor=actor,
            object_type="inventory.item",
            details={"created": created, "updated": updated, "errors": len(errors)},
        )
    return ImportReport(created, updated, errors)
