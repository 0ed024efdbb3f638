"""Reads of the stores and the pharmacy, in a bounded number of queries."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from hms.clinical.models import Prescription, PrescriptionStatus
from hms.inventory.models import (
    Alert,
    Dispense,
    Item,
    Location,
    Lot,
    Movement,
    MovementKind,
    ReorderLevel,
    Stock,
)


def items_with_stock(*, query: str = "", kind: str = "") -> QuerySet[Item]:
    """The catalogue with each item's total on hand (one query)."""
    items = Item.objects.annotate(on_hand=Coalesce(Sum("stock__on_hand"), 0)).select_related(
        "preferred_supplier"
    )
    if query:
        items = items.filter(
            Q(code__icontains=query)
            | Q(name__icontains=query)
            | Q(generic_name__icontains=query)
            | Q(brand__icontains=query)
        )
    if kind:
        items = items.filter(kind=kind)
    return items.order_by("name")


def stock_of(*, item: Item | None = None, location: Location | None = None) -> QuerySet[Stock]:
    """Stock rows per lot, first expiry first, with their lot, item and location."""
    rows = Stock.objects.filter(on_hand__gt=0).select_related("lot", "item", "location")
    if item is not None:
        rows = rows.filter(item=item)
    if location is not None:
        rows = rows.filter(location=location)
    return rows.order_by(F("lot__expiry_date").asc(nulls_last=True), "location__name", "lot_id")


def open_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(resolved_at__isnull=True).select_related("item", "location", "lot")


def expiring_lots(*, days: int | None = None, today: date | None = None) -> QuerySet[Stock]:
    """Stock in lots that expire within `days` (the warning window by default), or expired."""
    today = today or timezone.localdate()
    days = settings.INVENTORY_EXPIRY_WARNING_DAYS if days is None else days
    return stock_of().filter(lot__expiry_date__lte=today + timedelta(days=days))


def low_stock() -> QuerySet[ReorderLevel]:
    """Reorder rules whose stock is at or below the level (one query)."""
    on_hand = (
        Stock.objects.filter(item=OuterRef("item"), location=OuterRef("location"))
        .values("item")
        .annotate(t=Sum("on_hand"))
        .values("t")
    )
    return (
        ReorderLevel.objects.annotate(
            on_hand=Coalesce(Subquery(on_hand, output_field=IntegerField()), 0)
        )
        .filter(on_hand__lte=F("level"))
        .select_related("item", "location")
        .order_by("item__name")
    )


def ledger_differences() -> list[dict]:
    """Every (location, lot) whose on-hand differs from the sum of its movements."""
    ledger = {
        (row["location_id"], row["lot_id"]): row["total"]
        for row in Movement.objects.values("location_id", "lot_id").annotate(total=Sum("quantity"))
    }
    held = {
        (row["location_id"], row["lot_id"]): row["on_hand"]
        for row in Stock.objects.values("location_id", "lot_id", "on_hand")
    }
    return [
        {"location_id": key[0], "lot_id": key[1], "on_hand": held.get(key, 0),
         "ledger": ledger.get(key, 0)}
        for key in sorted(set(ledger) | set(held))
        if held.get(key, 0) != ledger.get(key, 0)
    ]  # fmt: skip


# --- The dispensing queue ------------------------------------------------------------------------


@dataclass
class QueueRow:
    prescription: Prescription
    dispensed: int
    item: Item | None

    @property
    def remaining(self) -> int | None:
        if self.prescription.quantity is None:
            return None
        return max(self.prescription.quantity - self.dispensed, 0)


def dispensing_queue() -> list[QueueRow]:
    """Active prescriptions not yet fully dispensed (one without a quantity stays until
    something is dispensed), oldest first, each with its catalogue item (three queries)."""
    dispensed = (
        Dispense.objects.filter(prescription=OuterRef("pk"))
        .values("prescription")
        .annotate(t=Sum("quantity"))
        .values("t")
    )
    rows = (
        Prescription.objects.filter(status=PrescriptionStatus.ACTIVE)
        .annotate(dispensed=Coalesce(Subquery(dispensed, output_field=IntegerField()), 0))
        .filter(
            Q(quantity__isnull=True, dispensed=0)
            | Q(quantity__isnull=False, dispensed__lt=F("quantity"))
        )
        .select_related("patient", "prescriber")
        .order_by("prescribed_at")
    )[:200]
    rows = list(rows)
    items = {i.code: i for i in Item.objects.filter(code__in={r.item_code for r in rows} - {""})}
    return [QueueRow(p, p.dispensed, items.get(p.item_code)) for p in rows]


# --- Reports -------------------------------------------------------------------------------------


def stock_value_by_location() -> list[dict]:
    value = ExpressionWrapper(
        F("on_hand") * F("lot__unit_cost"),
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )
    return list(
        Stock.objects.filter(on_hand__gt=0)
        .values("location__name", "location__kind")
        .annotate(units=Sum("on_hand"), value=Coalesce(Sum(value), Value(0, DecimalField())))
        .order_by("location__name")
    )


def movements_between(start: date, end: date) -> QuerySet[Movement]:
    return (
        Movement.objects.filter(occurred_at__date__gte=start, occurred_at__date__lte=end)
        .select_related("item", "lot", "location", "actor")
        .order_by("occurred_at", "pk")
    )


def consumption(start: date, end: date) -> list[dict]:
    """Units consumed per item and department: dispensed to patients at a location, or issued
    to a ward (the ward's department)."""
    moves = Movement.objects.filter(
        occurred_at__date__gte=start, occurred_at__date__lte=end
    ).filter(
        Q(kind=MovementKind.DISPENSE) | Q(kind=MovementKind.ISSUE, quantity__gt=0)
    )  # an issue's inflow row is at the ward
    rows = (
        moves.values("item__code", "item__name", "location__department__name", "location__name")
        .annotate(units=Sum("quantity"))
        .order_by("item__name")
    )
    return [
        {
            "code": r["item__code"],
            "item": r["item__name"],
            "department": r["location__department__name"] or r["location__name"],
            "units": abs(r["units"]),
        }
        for r in rows
    ]


def lots_of(item: Item) -> QuerySet[Lot]:
    return Lot.objects.filter(item=item).order_by(F("expiry_date").asc(nulls_last=True))
