"""Purchase orders from draft to received, the order's PDF, and the REST API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical.tests.factories import PrescriptionFactory
from hms.core.errors import Conflict, DomainError
from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import Lot, Movement, MovementKind, OrderStatus, PurchaseOrder
from hms.inventory.tests.factories import (
    ItemFactory,
    LocationFactory,
    SupplierFactory,
    receive,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/inventory/"


@pytest.fixture
def pharmacist(make_user):
    return make_user(Role.PHARMACIST)


def _order(actor, quantity=10):
    item, store = ItemFactory(), LocationFactory(kind="store")
    order = services.purchase_order_create(
        actor=actor, supplier=SupplierFactory(), location=store,
        lines=[services.OrderLineIn(item, quantity, Decimal("2.50"))],
    )  # fmt: skip
    return order, item, store


def test_an_order_goes_draft_approved_sent_partly_received_received(pharmacist):
    order, item, store = _order(pharmacist)
    with pytest.raises(Conflict):
        services.purchase_order_send(actor=pharmacist, order=order)  # not approved yet
    services.purchase_order_approve(actor=pharmacist, order=order)
    services.purchase_order_send(actor=pharmacist, order=order)
    line = order.lines.get()
    expiry = timezone.localdate() + timedelta(days=500)
    order = services.purchase_order_receive(
        actor=pharmacist, order=order,
        lines=[services.ReceiptLineIn(line, "PO-LOT-1", expiry, 4, Decimal("2.40"))],
    )  # fmt: skip
    assert order.status == OrderStatus.PARTLY_RECEIVED
    with pytest.raises(Conflict):  # more than outstanding
        services.purchase_order_receive(
            actor=pharmacist, order=order,
            lines=[services.ReceiptLineIn(line, "PO-LOT-2", expiry, 7)],
        )  # fmt: skip
    order = services.purchase_order_receive(
        actor=pharmacist, order=order, lines=[services.ReceiptLineIn(line, "PO-LOT-2", expiry, 6)]
    )
    assert order.status == OrderStatus.RECEIVED and order.received_at is not None
    assert services.on_hand_of(item=item, location=store) == 10
    lot = Lot.objects.get(batch_number="PO-LOT-1")
    assert (lot.expiry_date, lot.unit_cost, lot.supplier) == (expiry, Decimal("2.40"),
                                                              order.supplier)  # fmt: skip
    assert Movement.objects.filter(kind=MovementKind.RECEIPT, order_line=line).count() == 2
    with pytest.raises(Conflict):
        services.purchase_order_cancel(actor=pharmacist, order=order)


def test_a_receipt_of_an_expired_lot_against_an_order_is_refused(pharmacist):
    order, item, store = _order(pharmacist)
    services.purchase_order_approve(actor=pharmacist, order=order)
    with pytest.raises(DomainError) as refused:
        services.purchase_order_receive(
            actor=pharmacist, order=order,
            lines=[services.ReceiptLineIn(order.lines.get(), "OLD",
                                          timezone.localdate() - timedelta(days=1), 5)],
        )  # fmt: skip
    assert refused.value.code == "lot_expired"
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED and order.lines.get().received_quantity == 0


def test_the_order_pdf_is_a_pdf(client_for, pharmacist):
    order, _, _ = _order(pharmacist)
    response = client_for(Role.PHARMACIST).get(reverse("inventory:order-pdf", args=[order.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_receive_page_closes_the_order(client_for, pharmacist):
    order, item, store = _order(pharmacist, quantity=3)
    services.purchase_order_approve(actor=pharmacist, order=order)
    line = order.lines.get()
    expiry = (timezone.localdate() + timedelta(days=200)).isoformat()
    response = client_for(Role.PHARMACIST).post(
        reverse("inventory:order-receive", args=[order.pk]),
        {
            "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-line": line.pk,
            "form-0-batch_number": "NEW1", "form-0-expiry_date": expiry,
            "form-0-quantity": "3", "form-0-unit_cost": "2.50",
        },
    )  # fmt: skip
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    assert services.on_hand_of(item=item, location=store) == 3


# --- API -----------------------------------------------------------------------------------------


def test_items_can_be_listed_and_created_with_a_reorder_level(client_for):
    pharmacy = LocationFactory()
    client = client_for(Role.PHARMACIST)
    created = client.post(
        f"{API}items/",
        {"code": "ibu400", "name": "Ibuprofen", "kind": "medicine", "unit": "tablet",
         "reorder_level": 20, "reorder_quantity": 200, "location": str(pharmacy.pk)},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["code"], body["reorder_level"], body["reorder_quantity"]) == ("IBU400", 20, 200)
    listed = client.get(f"{API}items/", {"q": "ibu"}).json()
    assert [i["code"] for i in listed["results"]] == ["IBU400"]
    again = client.post(f"{API}items/", {"code": "IBU400", "name": "x"},
                        content_type="application/json")  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate"


def test_receipts_stock_and_dispenses_through_the_api(client_for):
    item, pharmacy = ItemFactory(code="PARA500"), LocationFactory()
    client = client_for(Role.PHARMACIST)
    expiry = (timezone.localdate() + timedelta(days=90)).isoformat()
    receipt = client.post(
        f"{API}receipts/",
        {"item": "PARA500", "location": str(pharmacy.pk), "lot": "L1", "expiry_date": expiry,
         "quantity": 4, "unit_cost": "0.10"},
        content_type="application/json",
    )  # fmt: skip
    assert receipt.status_code == 201 and receipt.json()["quantity"] == 4
    receive(item, pharmacy, 6, batch="L2", days=400)
    stock = client.get(f"{API}stock/", {"item": "PARA500", "location": str(pharmacy.pk)}).json()
    assert stock["on_hand"] == 10
    assert [(lot["lot"], lot["on_hand"], lot["unit_cost"]) for lot in stock["lots"]] == [
        ("L1", 4, "0.10"), ("L2", 6, "1.00"),
    ]  # fmt: skip
    patient = PrescriptionFactory().patient
    done = client.post(
        f"{API}dispenses/",
        {"item": "PARA500", "location": str(pharmacy.pk), "quantity": 5,
         "patient": str(patient.pk)},
        content_type="application/json",
    )  # fmt: skip
    assert done.status_code == 201
    assert done.json()["lots"] == [
        {"lot": "L1", "expiry_date": expiry, "quantity": 4},
        {"lot": "L2", "expiry_date": (timezone.localdate() + timedelta(days=400)).isoformat(),
         "quantity": 1},
    ]  # fmt: skip
    short = client.post(
        f"{API}dispenses/",
        {"item": "PARA500", "location": str(pharmacy.pk), "quantity": 6,
         "patient": str(patient.pk)},
        content_type="application/json",
    )  # fmt: skip
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_stock"


def test_an_expired_receipt_is_a_json_error_with_a_code(client_for):
    ItemFactory(code="X1")
    pharmacy = LocationFactory()
    response = client_for(Role.PHARMACIST).post(
        f"{API}receipts/",
        {"item": "X1", "location": str(pharmacy.pk), "lot": "OLD", "quantity": 1,
         "expiry_date": (timezone.localdate() - timedelta(days=3)).isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"]["code"] == "lot_expired"


def test_purchase_orders_alerts_and_locations_through_the_api(client_for, pharmacist):
    supplier, store, item = SupplierFactory(), LocationFactory(kind="store"), ItemFactory()
    client = client_for(Role.PHARMACIST)
    created = client.post(
        f"{API}purchase-orders/",
        {"supplier": str(supplier.pk), "location": str(store.pk),
         "lines": [{"item": item.code, "quantity": 5, "unit_cost": "1.20"}]},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["status"] == "draft"
    order_id = created.json()["id"]
    assert [o["id"] for o in client.get(f"{API}purchase-orders/?status=draft").json()[
        "results"]] == [order_id]  # fmt: skip
    line_id = created.json()["lines"][0]["id"]
    services.purchase_order_approve(actor=pharmacist, order=PurchaseOrder.objects.get(pk=order_id))
    expiry = (timezone.localdate() + timedelta(days=365)).isoformat()
    received = client.post(
        f"{API}purchase-orders/{order_id}/receive/",
        {"lines": [{"line": line_id, "lot": "R1", "expiry_date": expiry, "quantity": 5}]},
        content_type="application/json",
    )  # fmt: skip
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert client.get(f"{API}alerts/").status_code == 200
    assert str(store.pk) in [loc["id"] for loc in client.get(f"{API}locations/").json()]


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.NURSE, "get", "items/", 403),
        (Role.ADMIN, "get", "items/", 200),
        (Role.ADMIN, "post", "dispenses/", 403),
        (Role.DOCTOR, "post", "receipts/", 403),
    ],
)
def test_the_api_has_the_pages_permissions(client_for, role, method, path, status):
    response = getattr(client_for(role), method)(f"{API}{path}", content_type="application/json")
    assert response.status_code == status
