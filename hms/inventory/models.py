"""Stores, pharmacy and procurement: the catalogue, where stock is, and every movement of it.

Stock is held per item, location and lot (`Stock`), never below zero (a CHECK constraint), and
changed only by `services._apply`, which writes a `Movement` (the append-only ledger) and moves
`on_hand` with a conditional UPDATE in the same transaction. `manage.py stock_check` recomputes
every on-hand figure from the ledger.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hms.core.models import Department, TimeStampedModel


def _choices_check(field: str, choices: type[models.TextChoices], name: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": [c.value for c in choices]}), name=name
    )


# --- Catalogue -----------------------------------------------------------------------------------


class ItemKind(models.TextChoices):
    MEDICINE = "medicine", "Medicine"
    CONSUMABLE = "consumable", "Consumable"
    EQUIPMENT = "equipment", "Equipment"


class Supplier(TimeStampedModel):
    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Item(TimeStampedModel):
    """A catalogue entry: a medicine (generic name, brand, form, strength, ATC code), a
    consumable or a piece of equipment. Quantities are counted in its `unit` (a tablet, a vial,
    a box); `unit_of_issue` and `pack_size` say how it is handed out and bought."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ItemKind.choices, default=ItemKind.MEDICINE)
    generic_name = models.CharField(max_length=200, blank=True)
    brand = models.CharField(max_length=200, blank=True)
    form = models.CharField(max_length=60, blank=True, help_text="e.g. tablet, capsule, syrup")
    strength = models.CharField(max_length=60, blank=True, help_text="e.g. 500 mg")
    unit = models.CharField(max_length=30, default="unit", help_text="what one counts: tablet")
    atc_code = models.CharField("ATC code", max_length=10, blank=True)
    unit_of_issue = models.CharField(max_length=30, blank=True, help_text="e.g. strip, bottle")
    pack_size = models.PositiveIntegerField(default=1)
    preferred_supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "is_active", "name"])]
        constraints = [
            _choices_check("kind", ItemKind, "inventory_item_kind_known"),
            models.CheckConstraint(condition=~Q(code=""), name="inventory_item_has_code"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="inventory_pack_size_pos"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.name, self.strength, self.form) if part)


# --- Locations -----------------------------------------------------------------------------------


class LocationKind(models.TextChoices):
    STORE = "store", "Store"
    PHARMACY = "pharmacy", "Pharmacy"
    WARD = "ward", "Ward"


class Location(TimeStampedModel):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=LocationKind.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [_choices_check("kind", LocationKind, "inventory_location_kind_known")]

    def __str__(self) -> str:
        return self.name


class ReorderLevel(TimeStampedModel):
    """When `item` at `location` falls to `level` or below, `quantity` is proposed for ordering.
    `low_since` is set when stock crosses down through the level and cleared when it rises
    above: the alert fires on the crossing only, not on every later movement."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reorder_levels")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=0)
    low_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="inventory_reorder_once")
        ]


# --- Lots and stock ------------------------------------------------------------------------------


class Lot(TimeStampedModel):
    """A batch of one item: its number, expiry date and what one unit cost."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="lots")
    batch_number = models.CharField(max_length=60)
    expiry_date = models.DateField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set once when the lot enters the expiry warning window (the alert fires once).
    expiry_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expiry_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "batch_number"], name="inventory_lot_once"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="inventory_lot_cost_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_number} (exp. {self.expiry_date or 'none'})"

    def is_expired(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.expiry_date is not None and self.expiry_date < today


class Stock(models.Model):
    """How many units of one lot are at one location. Never negative: the database refuses."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "location", "lot"], name="inventory_stock_once"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_gte_0"),
        ]
        indexes = [models.Index(fields=["location", "item"])]

    def __str__(self) -> str:
        return f"{self.on_hand} of lot {self.lot_id} at {self.location_id}"


# --- The ledger ----------------------------------------------------------------------------------


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    TRANSFER = "transfer", "Transfer"
    ISSUE = "issue", "Issue to ward"
    DISPENSE = "dispense", "Dispense to patient"
    ADJUSTMENT = "adjustment", "Adjustment"
    RETURN = "return", "Return"


class AdjustmentReason(models.TextChoices):
    COUNT = "count", "Stock count"
    DAMAGE = "damage", "Damage"
    EXPIRY = "expiry", "Expiry"


class AppendOnly(Exception):
    pass


class Movement(models.Model):
    """One signed change of one lot at one location. Rows are only ever added: the sum of a
    (location, lot)'s movements is its on-hand. A transfer or an issue to a ward is two rows
    (out of one place, into the other) sharing `reference`."""

    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    reason = models.CharField(max_length=16, choices=AdjustmentReason.choices, blank=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    quantity = models.IntegerField()  # signed: + into the location, - out of it
    reference = models.CharField(max_length=64, blank=True)
    dispense = models.ForeignKey(
        "Dispense", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    order_line = models.ForeignKey(
        "PurchaseOrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["location", "lot"]), models.Index(fields=["item", "kind"])]
        constraints = [
            _choices_check("kind", MovementKind, "inventory_movement_kind_known"),
            models.CheckConstraint(condition=~Q(quantity=0), name="inventory_movement_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="adjustment", reason__in=AdjustmentReason.values)
                | (~Q(kind="adjustment") & Q(reason="")),
                name="inventory_adjustment_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} of lot {self.lot_id} at {self.location_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("stock movements are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("stock movements are append-only")


class Dispense(models.Model):
    """Medicine handed to a patient, against a prescription or not; who and when."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(
        "clinical.Prescription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispenses",
    )
    quantity = models.PositiveIntegerField()
    dispensed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispensed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-dispensed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_dispense_pos")
        ]

    def __str__(self) -> str:
        return f"Dispense {self.pk}: {self.quantity} of item {self.item_id}"


# --- Alerts --------------------------------------------------------------------------------------


class AlertKind(models.TextChoices):
    LOW_STOCK = "low_stock", "Low stock"
    EXPIRING = "expiring", "Expiring soon"


class Alert(models.Model):
    """Raised once when stock crosses its reorder level or a lot enters the expiry window;
    closed (`resolved_at`) when stock is back above the level or the lot is gone."""

    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["resolved_at", "kind"])]
        constraints = [_choices_check("kind", AlertKind, "inventory_alert_kind_known")]

    def __str__(self) -> str:
        return self.message


# --- Procurement ---------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent"
    PARTLY_RECEIVED = "partly_received", "Partly received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ORDER_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.APPROVED,
    OrderStatus.SENT,
    OrderStatus.PARTLY_RECEIVED,
)


class PurchaseOrder(TimeStampedModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [_choices_check("status", OrderStatus, "inventory_order_status_known")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"PO-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_line_qty_pos"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=models.F("quantity")),
                name="inventory_line_not_over_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of item {self.item_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received_quantity
