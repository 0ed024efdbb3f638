"""REST API of the pharmacy and stores under /api/v1/inventory/: the same services, permissions
and audit as the pages. Items, locations and lots are referred to by id (an item also by its
code); quantities are whole units; money is a string with two decimals."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.clinical.models import Prescription
from hms.core.api import ErrorDetailOut
from hms.core.errors import DomainError, NotFound
from hms.core.permissions import Perm
from hms.inventory import selectors, services
from hms.inventory.forms import MAX_QUANTITY
from hms.inventory.models import (
    AlertKind,
    Item,
    ItemKind,
    Location,
    OrderStatus,
    PurchaseOrder,
    ReorderLevel,
    Supplier,
)
from hms.patients.selectors import patient_get_for_user

Money = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}


def _item(ref: str) -> Item:
    ref = str(ref).strip()
    item = Item.objects.filter(code=ref.upper()).first()
    if item is None and ref.isascii() and ref.isdigit() and len(ref) < 19:
        item = Item.objects.filter(pk=int(ref)).first()
    if item is None:
        raise DomainError("No such item.", code="not_found", fields={"item": "Unknown item."})
    return item


def _by_pk(model, ref, field: str):
    ref = str(ref).strip()
    found = (
        model.objects.filter(pk=int(ref)).first()
        if ref.isascii() and ref.isdigit() and len(ref) < 19
        else None
    )
    if found is None:
        raise DomainError(f"No such {field}.", code="not_found", fields={field: "Unknown."})
    return found


def _order(ref) -> PurchaseOrder:
    try:
        return _by_pk(PurchaseOrder, ref, "order")
    except DomainError:
        raise NotFound("No such purchase order.") from None


class Ref(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 60)
        super().__init__(**kwargs)


# --- Items and locations -------------------------------------------------------------------------


class ItemOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    on_hand = serializers.IntegerField(read_only=True)
    reorder_level = serializers.SerializerMethodField()
    reorder_quantity = serializers.SerializerMethodField()

    class Meta:
        model = Item
        fields = [
            "id", "code", "name", "kind", "generic_name", "brand", "form", "strength", "unit",
            "atc_code", "unit_of_issue", "pack_size", "is_active", "on_hand", "reorder_level",
            "reorder_quantity",
        ]  # fmt: skip

    def _rule(self, item) -> ReorderLevel | None:
        rules = self.context.get("rules", {})
        return rules.get(item.pk)

    def get_reorder_level(self, item) -> int | None:
        rule = self._rule(item)
        return rule.level if rule else None

    def get_reorder_quantity(self, item) -> int | None:
        rule = self._rule(item)
        return rule.quantity if rule else None


class ItemIn(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ItemKind.choices, default=ItemKind.MEDICINE)
    unit = serializers.CharField(max_length=30, default="unit")
    generic_name = serializers.CharField(max_length=200, required=False, default="")
    brand = serializers.CharField(max_length=200, required=False, default="")
    form = serializers.CharField(max_length=60, required=False, default="")
    strength = serializers.CharField(max_length=60, required=False, default="")
    atc_code = serializers.CharField(max_length=10, required=False, default="")
    pack_size = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    reorder_level = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)
    reorder_quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)
    location = Ref(
        required=False,
        help_text="Where the reorder level applies (a location id); default: every pharmacy.",
    )


def _rules_for(items, location_ref: str | None) -> dict:
    rules = ReorderLevel.objects.filter(item__in=[i.pk for i in items]).order_by("location_id")
    if location_ref:
        rules = rules.filter(location_id=_by_pk(Location, location_ref, "location").pk)
    found: dict = {}
    for rule in rules:
        found.setdefault(rule.item_id, rule)
    return found


class ItemsView(APIView):
    """The catalogue (`?q=` searches code and names, `?kind=`), with total on hand and the
    reorder level (at `?location=`, else the first location that has one)."""

    permission_classes = [HasRolePermission]
    required_perms = {"get": Perm.INVENTORY_VIEW, "post": Perm.INVENTORY_WRITE}

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=ItemKind.values),
            OpenApiParameter("location", OpenApiTypes.STR),
        ],
        responses=ItemOut(many=True),
    )
    def get(self, request):
        kind = request.query_params.get("kind") or ""
        items = selectors.items_with_stock(
            query=(request.query_params.get("q") or "")[:80],
            kind=kind if kind in ItemKind.values else "",
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(items, request, view=self)
        rules = _rules_for(page, request.query_params.get("location"))
        return paginator.get_paginated_response(
            ItemOut(page, many=True, context={"rules": rules}).data
        )

    @extend_schema(request=ItemIn, responses={201: ItemOut, 409: ErrorDetailOut})
    def post(self, request):
        body = ItemIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        level, quantity = data.pop("reorder_level", None), data.pop("reorder_quantity", None)
        location_ref = data.pop("location", None)
        locations = (
            [_by_pk(Location, location_ref, "location")]
            if location_ref
            else list(Location.objects.filter(kind="pharmacy", is_active=True))
        )
        item = services.item_create(actor=request.user, **data)
        if level is not None or quantity is not None:
            for location in locations:
                services.reorder_level_set(
                    actor=request.user, item=item, location=location,
                    level=level or 0, quantity=quantity or 0,
                )  # fmt: skip
        item = selectors.items_with_stock().get(pk=item.pk)
        rules = _rules_for([item], location_ref)
        return Response(ItemOut(item, context={"rules": rules}).data, status=201)


class LocationOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    department = serializers.CharField(source="department_id", allow_null=True)

    class Meta:
        model = Location
        fields = ["id", "code", "name", "kind", "department", "is_active"]


class LocationsView(APIView):
    """Stores, the pharmacy and wards."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.INVENTORY_VIEW

    @extend_schema(responses=LocationOut(many=True))
    def get(self, request):
        return Response(LocationOut(Location.objects.all(), many=True).data)


# --- Receipts and stock --------------------------------------------------------------------------


class MovementOut(serializers.Serializer):
    id = serializers.CharField(source="pk")
    kind = serializers.CharField()
    item = serializers.CharField(source="item_id")
    location = serializers.CharField(source="location_id")
    lot = serializers.CharField(source="lot.batch_number")
    expiry_date = serializers.DateField(source="lot.expiry_date", allow_null=True)
    quantity = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()


class ReceiptIn(serializers.Serializer):
    item = Ref(help_text="Item id or code")
    location = Ref(help_text="Location id")
    lot = serializers.CharField(max_length=60, help_text="The batch number")
    expiry_date = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)


class ReceiptsView(APIView):
    """Receive a lot into a location (an expired lot is refused: 400 `lot_expired`)."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.INVENTORY_WRITE

    @extend_schema(request=ReceiptIn, responses={201: MovementOut})
    def post(self, request):
        body = ReceiptIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        move = services.stock_receive(
            actor=request.user,
            item=_item(data["item"]),
            location=_by_pk(Location, data["location"], "location"),
            batch_number=data["lot"],
            expiry_date=data.get("expiry_date"),
            quantity=data["quantity"],
            unit_cost=data["unit_cost"],
        )
        return Response(MovementOut(move).data, status=201)


class StockLotOut(serializers.Serializer):
    item = serializers.CharField(source="item_id")
    item_code = serializers.CharField(source="item.code")
    location = serializers.CharField(source="location_id")
    lot = serializers.CharField(source="lot.batch_number")
    lot_id = serializers.CharField()
    expiry_date = serializers.DateField(source="lot.expiry_date", allow_null=True)
    unit_cost = serializers.DecimalField(source="lot.unit_cost", **Money)
    on_hand = serializers.IntegerField()


class StockOut(serializers.Serializer):
    on_hand = serializers.IntegerField()
    lots = StockLotOut(many=True)


class StockView(APIView):
    """Stock per lot (first expiry first) and the total `on_hand`, for `?item=` and/or
    `?location=`."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.INVENTORY_VIEW

    @extend_schema(
        parameters=[
            OpenApiParameter("item", OpenApiTypes.STR, description="Item id or code"),
            OpenApiParameter("location", OpenApiTypes.STR, description="Location id"),
        ],
        responses=StockOut,
    )
    def get(self, request):
        item_ref, location_ref = (
            request.query_params.get("item"),
            request.query_params.get("location"),
        )
        item = _item(item_ref) if item_ref else None
        location = _by_pk(Location, location_ref, "location") if location_ref else None
        if item is None and location is None:
            raise DomainError("Give ?item= or ?location=.", fields={"item": "Required."})
        rows = list(selectors.stock_of(item=item, location=location)[:1000])
        return Response(StockOut({"on_hand": sum(r.on_hand for r in rows), "lots": rows}).data)


# --- Dispensing ----------------------------------------------------------------------------------


class DispenseIn(serializers.Serializer):
    item = Ref(help_text="Item id or code")
    location = Ref(help_text="Location id")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    prescription = serializers.UUIDField(required=False, allow_null=True)
    patient = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, data):
        if not data.get("prescription") and not data.get("patient"):
            raise serializers.ValidationError({"prescription": "Give a prescription or patient."})
        return data


class DispenseOut(serializers.Serializer):
    id = serializers.CharField(source="pk")
    item = serializers.CharField(source="item_id")
    location = serializers.CharField(source="location_id")
    patient = serializers.CharField(source="patient_id")
    prescription = serializers.CharField(source="prescription_id", allow_null=True)
    quantity = serializers.IntegerField()
    dispensed_by = serializers.CharField(source="dispensed_by_id", allow_null=True)
    dispensed_at = serializers.DateTimeField()
    lots = serializers.SerializerMethodField()

    def get_lots(self, dispense) -> list[dict]:
        return [
            {"lot": m.lot.batch_number, "expiry_date": m.lot.expiry_date, "quantity": -m.quantity}
            for m in dispense.movements.select_related("lot").order_by("pk")
        ]


class DispensesView(APIView):
    """Dispense to a patient, first expiry first, never from an expired lot: 201, or 409
    `insufficient_stock` (nothing taken)."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.DISPENSE

    @extend_schema(
        request=DispenseIn,
        responses={
            201: DispenseOut,
            409: OpenApiResponse(description="`insufficient_stock`, `not_active`, ..."),
        },
    )
    def post(self, request):
        body = DispenseIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        prescription = patient = None
        if data.get("prescription"):
            prescription = Prescription.objects.filter(pk=data["prescription"]).first()
            if prescription is None:
                raise NotFound("No such prescription.")
        if data.get("patient"):
            patient = patient_get_for_user(
                user=request.user, patient_id=data["patient"], action="patient.dispense_view"
            )
        dispense = services.stock_dispense(
            actor=request.user,
            item=_item(data["item"]),
            location=_by_pk(Location, data["location"], "location"),
            quantity=data["quantity"],
            prescription=prescription,
            patient=patient,
        )
        return Response(DispenseOut(dispense).data, status=201)


# --- Alerts --------------------------------------------------------------------------------------


class AlertOut(serializers.Serializer):
    id = serializers.CharField(source="pk")
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    item = serializers.CharField(source="item_id")
    item_code = serializers.CharField(source="item.code")
    location = serializers.CharField(source="location_id", allow_null=True)
    lot = serializers.CharField(source="lot_id", allow_null=True)
    message = serializers.CharField()
    raised_at = serializers.DateTimeField()


class AlertsView(APIView):
    """Open alerts: low stock (at or below the reorder level) and lots expiring soon."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.INVENTORY_VIEW

    @extend_schema(
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=AlertKind.values)],
        responses=AlertOut(many=True),
    )
    def get(self, request):
        alerts = selectors.open_alerts()
        kind = request.query_params.get("kind")
        if kind in AlertKind.values:
            alerts = alerts.filter(kind=kind)
        return Response(AlertOut(alerts[:500], many=True).data)


# --- Purchase orders -----------------------------------------------------------------------------


class OrderLineOut(serializers.Serializer):
    id = serializers.CharField(source="pk")
    item = serializers.CharField(source="item_id")
    item_code = serializers.CharField(source="item.code")
    quantity = serializers.IntegerField()
    received_quantity = serializers.IntegerField()
    unit_cost = serializers.DecimalField(**Money)


class OrderOut(serializers.Serializer):
    id = serializers.CharField(source="pk")
    number = serializers.CharField()
    supplier = serializers.CharField(source="supplier_id")
    location = serializers.CharField(source="location_id")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    lines = OrderLineOut(many=True, source="lines.all")


class OrderLineIn(serializers.Serializer):
    item = Ref(help_text="Item id or code")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)


class OrderIn(serializers.Serializer):
    supplier = Ref(help_text="Supplier id")
    location = Ref(help_text="Location id to deliver to")
    note = serializers.CharField(max_length=300, required=False, default="")
    lines = OrderLineIn(many=True, allow_empty=False, max_length=200)


class OrdersView(APIView):
    """Purchase orders (`?status=`); POST drafts one."""

    permission_classes = [HasRolePermission]
    required_perms = {"get": Perm.INVENTORY_VIEW, "post": Perm.INVENTORY_WRITE}

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=OrderStatus.values)],
        responses=OrderOut(many=True),
    )
    def get(self, request):
        orders = PurchaseOrder.objects.prefetch_related("lines__item").order_by("-pk")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in OrderStatus.values:
                raise DomainError("Unknown status.", fields={"status": "Unknown."})
            orders = orders.filter(status=wanted)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOut(page, many=True).data)

    @extend_schema(request=OrderIn, responses={201: OrderOut})
    def post(self, request):
        body = OrderIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order = services.purchase_order_create(
            actor=request.user,
            supplier=_by_pk(Supplier, data["supplier"], "supplier"),
            location=_by_pk(Location, data["location"], "location"),
            lines=[
                services.OrderLineIn(_item(x["item"]), x["quantity"], x["unit_cost"])
                for x in data["lines"]
            ],
            note=data["note"],
        )
        return Response(OrderOut(order).data, status=201)


class ReceiveLineIn(serializers.Serializer):
    line = Ref(help_text="Order line id")
    lot = serializers.CharField(max_length=60, help_text="The batch number")
    expiry_date = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class ReceiveIn(serializers.Serializer):
    lines = ReceiveLineIn(many=True, allow_empty=False, max_length=200)


class OrderReceiveView(APIView):
    """A goods receipt against an order: lots, expiry and cost per line; the order becomes
    partly received or received."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.INVENTORY_WRITE

    @extend_schema(request=ReceiveIn, responses={200: OrderOut})
    def post(self, request, pk: str):
        order = _order(pk)
        body = ReceiveIn(data=request.data)
        body.is_valid(raise_exception=True)
        lines = {str(line.pk): line for line in order.lines.select_related("item")}
        entries = []
        for x in body.validated_data["lines"]:
            line = lines.get(str(x["line"]).strip())
            if line is None:
                raise DomainError("No such line on this order.", fields={"line": x["line"]})
            entries.append(
                services.ReceiptLineIn(
                    line=line,
                    batch_number=x["lot"],
                    expiry_date=x.get("expiry_date"),
                    quantity=x["quantity"],
                    unit_cost=x.get("unit_cost"),
                )  # fmt: skip
            )
        order = services.purchase_order_receive(actor=request.user, order=order, lines=entries)
        return Response(OrderOut(order).data)
