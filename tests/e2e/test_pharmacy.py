"""Issue 11's pharmacy in a real browser: a doctor prescribes from the catalogue, the pharmacist
dispenses it first expiry first, stock crosses the reorder level (one alert, one draft order),
receiving the order restores stock with the new lot's expiry, and an expired lot is refused."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hms.clinical.models import Prescription
from hms.clinical.tests.factories import EncounterFactory
from hms.core.access import as_system
from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import Alert, AlertKind, Lot, OrderStatus, PurchaseOrder, Stock
from hms.inventory.tests.factories import ItemFactory, LocationFactory, SupplierFactory, receive

pytestmark = pytest.mark.e2e


def test_prescribe_dispense_alert_and_reorder(page, login_as, make_user):
    doctor, pharmacist = make_user(Role.DOCTOR), make_user(Role.PHARMACIST)
    supplier = SupplierFactory(name="MediSupply Ltd")
    pharmacy = LocationFactory(code="PHARM", name="Pharmacy")
    item = ItemFactory(
        code="AMOX500", name="Amoxicillin", generic_name="Amoxicillin", strength="500 mg",
        form="capsule", unit="capsule", preferred_supplier=supplier,
    )  # fmt: skip
    expired = receive(item, pharmacy, 5, batch="OLD", days=3)
    Lot.objects.filter(pk=expired.pk).update(expiry_date=timezone.localdate() - timedelta(days=2))
    receive(item, pharmacy, 20, batch="LATE", days=400)
    receive(item, pharmacy, 10, batch="EARLY", days=60)
    with as_system():
        services.reorder_level_set(actor=None, item=item, location=pharmacy, level=25,
                                   quantity=100)  # fmt: skip
    encounter = EncounterFactory(practitioner=doctor)

    # The doctor prescribes from the catalogue.
    login_as(page, doctor)
    page.goto(f"/clinical/encounters/{encounter.pk}/?tab=prescriptions")
    page.get_by_label("Drug").fill("amox")
    expect(page.locator("#medicine-results")).to_contain_text(
        "Amoxicillin 500 mg capsule [AMOX500]"
    )
    page.get_by_label("Drug").fill("Amoxicillin 500 mg capsule [AMOX500]")
    page.get_by_label("Quantity").fill("12")
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_text("Prescription written.")).to_be_visible()
    prescription = Prescription.objects.get()
    assert (prescription.drug, prescription.item_code) == ("Amoxicillin", "AMOX500")

    # The pharmacist dispenses it, first expiry first; the expired lot is never picked.
    login_as(page, pharmacist)
    page.goto("/inventory/dispensing/")
    page.locator("#queue").get_by_role("link", name="Dispense").click()
    expect(page.get_by_text("expired: never dispensed")).to_be_visible()
    page.get_by_label("Location").select_option(label="Pharmacy")
    expect(page.get_by_label("Quantity")).to_have_value("12")
    page.get_by_role("button", name="Dispense").click()
    expect(page.get_by_text("Dispensed 12 capsule(s)")).to_be_visible()
    expect(page.locator("#queue")).to_contain_text("Nothing to dispense.")
    on_hand = dict(Stock.objects.values_list("lot__batch_number", "on_hand"))
    assert on_hand == {"OLD": 5, "EARLY": 0, "LATE": 18}

    # Stock fell to 23, through the reorder level of 25: one alert and one draft order.
    page.goto("/inventory/alerts/")
    low = page.locator("#open-alerts li").filter(has_text="Low stock")
    expect(low).to_have_count(1)
    expect(low).to_contain_text("at or below the reorder level of 25")
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 1
    order = PurchaseOrder.objects.get()
    assert order.status == OrderStatus.DRAFT and order.supplier == supplier

    # Approve, send and receive the order: stock is back, with the new lot's expiry.
    page.goto("/inventory/orders/")
    page.get_by_role("link", name=order.number).click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Mark as sent").click()
    expect(page.locator("#order-status")).to_have_text("Sent")
    page.get_by_role("link", name="Receive goods").click()
    new_expiry = timezone.localdate() + timedelta(days=730)
    page.get_by_label("Lot (batch number)").fill("NEW-2028")
    page.get_by_label("Expiry date").fill(new_expiry.isoformat())
    expect(page.get_by_label("Quantity")).to_have_value("100")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#order-status")).to_have_text("Received")
    page.goto(f"/inventory/items/{item.pk}/")
    expect(page.locator("#item-total")).to_have_text("123")
    expect(page.locator("#lots")).to_contain_text(new_expiry.isoformat())
    assert (
        Alert.objects.get(kind=AlertKind.LOW_STOCK).resolved_at is not None
    )  # back above the level

    # An expired lot is refused at the door.
    page.goto(f"/inventory/receive/?item={item.pk}")
    page.get_by_label("Location").select_option(label="Pharmacy")
    page.get_by_label("Lot (batch number)").fill("STALE")
    page.get_by_label("Expiry date").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_label("Quantity").fill("10")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("This lot has expired")).to_be_visible()
    assert not Lot.objects.filter(batch_number="STALE").exists()
