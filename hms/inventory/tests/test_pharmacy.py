"""The pharmacy: prescribing from the catalogue, the dispensing queue, partial dispensing, the
event billing listens to, and the alerts and draft orders that low stock raises."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical import services as clinical
from hms.clinical.models import Allergy
from hms.clinical.tests.factories import EncounterFactory, PrescriptionFactory
from hms.core.audit import AuditEvent
from hms.core.errors import Conflict, DomainError
from hms.core.events import _handlers, subscribe
from hms.core.models import Notification
from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import Alert, AlertKind, Lot, OrderStatus, PurchaseOrder
from hms.inventory.selectors import dispensing_queue
from hms.inventory.tests.factories import (
    ItemFactory,
    LocationFactory,
    SupplierFactory,
    receive,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pharmacist(make_user):
    return make_user(Role.PHARMACIST)


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR)


@pytest.fixture
def events():
    seen: list[tuple[str, dict]] = []
    names = ("medication.dispensed", "stock.low", "lot.expiring")
    probes = {}
    for name in names:

        def probe(_name=name, **payload):
            seen.append((_name, payload))

        probes[name] = subscribe(name)(probe)
    yield seen
    for name, probe in probes.items():
        _handlers[name].remove(probe)


def amoxicillin():
    return ItemFactory(
        code="AMOX500", name="Amoxicillin", generic_name="Amoxicillin", strength="500 mg",
        form="capsule", unit="capsule",
    )  # fmt: skip


# --- Prescribing from the catalogue --------------------------------------------------------------


def test_a_prescription_picked_from_the_catalogue_carries_its_item_code(doctor):
    amoxicillin()
    encounter = EncounterFactory()
    prescription = clinical.prescription_create(
        actor=doctor, patient=encounter.patient, encounter=encounter,
        drug="Amoxicillin 500 mg capsule [AMOX500]", quantity=21,
    )  # fmt: skip
    assert (prescription.drug, prescription.strength, prescription.item_code) == (
        "Amoxicillin", "500 mg", "AMOX500",
    )  # fmt: skip
    assert prescription.is_stocked


def test_free_text_stays_possible_and_is_marked_not_stocked(doctor):
    encounter = EncounterFactory()
    prescription = clinical.prescription_create(
        actor=doctor, patient=encounter.patient, encounter=encounter, drug="Unobtainium drops"
    )
    assert prescription.item_code == "" and not prescription.is_stocked


def test_the_allergy_warning_still_fires_for_a_catalogue_medicine(doctor):
    amoxicillin()
    encounter = EncounterFactory()
    Allergy.objects.create(patient=encounter.patient, substance="Penicillin")
    with pytest.raises(clinical.AllergyWarning):
        clinical.prescription_create(
            actor=doctor, patient=encounter.patient, encounter=encounter,
            drug="Amoxicillin 500 mg capsule [AMOX500]",
        )  # fmt: skip


def test_an_unknown_item_code_is_refused(doctor):
    encounter = EncounterFactory()
    with pytest.raises(DomainError) as refused:
        clinical.prescription_create(
            actor=doctor, patient=encounter.patient, encounter=encounter, drug="X",
            item_code="NOPE",
        )  # fmt: skip
    assert refused.value.code == "unknown_item"


def test_the_prescribing_field_suggests_catalogue_medicines(client_for):
    amoxicillin()
    page = client_for(Role.DOCTOR).get(reverse("clinical:medicine-search"), {"drug": "amox"})
    assert "Amoxicillin 500 mg capsule [AMOX500]" in page.content.decode()
    page = client_for(Role.DOCTOR).get(reverse("clinical:medicine-search"), {"drug": "zzzz"})
    assert "not stocked" in page.content.decode()


# --- Dispensing ----------------------------------------------------------------------------------


def test_partial_dispensing_leaves_the_rest_pending_in_the_queue(pharmacist, events):
    item, pharmacy = amoxicillin(), LocationFactory()
    receive(item, pharmacy, 50)
    prescription = PrescriptionFactory(drug="Amoxicillin", item_code="AMOX500", quantity=21)
    assert [row.prescription for row in dispensing_queue()] == [prescription]

    first = services.stock_dispense(
        actor=pharmacist, item=item, location=pharmacy, quantity=14, prescription=prescription
    )
    [row] = dispensing_queue()
    assert (row.dispensed, row.remaining) == (14, 7)
    assert first.dispensed_by == pharmacist and first.dispensed_at is not None
    with pytest.raises(Conflict) as refused:
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=8, prescription=prescription
        )
    assert refused.value.code == "over_prescribed"
    services.stock_dispense(
        actor=pharmacist, item=item, location=pharmacy, quantity=7, prescription=prescription
    )
    assert dispensing_queue() == []
    assert services.on_hand_of(item=item, location=pharmacy) == 29


def test_each_dispense_emits_medication_dispensed_with_the_agreed_payload(pharmacist, events):
    item, pharmacy = amoxicillin(), LocationFactory()
    receive(item, pharmacy, 10)
    prescription = PrescriptionFactory(drug="Amoxicillin", item_code="AMOX500", quantity=5)
    dispense = services.stock_dispense(
        actor=pharmacist, item=item, location=pharmacy, quantity=5, prescription=prescription
    )
    [(name, payload)] = [e for e in events if e[0] == "medication.dispensed"]
    assert payload == {
        "dispense_id": dispense.pk,
        "patient_id": str(prescription.patient_id),
        "item_code": "AMOX500",
        "item_name": "Amoxicillin 500 mg capsule",
        "quantity": Decimal(5),
        "prescription_id": str(prescription.pk),
    }
    assert isinstance(payload["quantity"], Decimal)
    assert AuditEvent.objects.filter(
        action="inventory.dispense", patient_ref=str(prescription.patient_id)
    ).exists()


def test_a_stopped_prescription_or_another_medicine_is_not_dispensed(pharmacist):
    item, pharmacy = amoxicillin(), LocationFactory()
    receive(item, pharmacy, 10)
    other = PrescriptionFactory(drug="Paracetamol", item_code="PARA500")
    with pytest.raises(DomainError) as refused:
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=1, prescription=other
        )
    assert refused.value.code == "wrong_item"
    stopped = PrescriptionFactory(item_code="AMOX500", status="stopped")
    with pytest.raises(Conflict):
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=1, prescription=stopped
        )


def test_the_queue_page_audits_each_patient_shown(client_for):
    prescription = PrescriptionFactory(item_code="", quantity=3)
    page = client_for(Role.PHARMACIST).get(reverse("inventory:dispense-queue"))
    assert page.status_code == 200 and "not stocked" in page.content.decode()
    assert AuditEvent.objects.filter(
        action="prescription.dispensing_queue_view", patient_ref=str(prescription.patient_id)
    ).exists()


def test_dispensing_from_the_page_refuses_more_than_the_stock_with_a_clear_message(client_for):
    item, pharmacy = amoxicillin(), LocationFactory()
    receive(item, pharmacy, 2)
    prescription = PrescriptionFactory(drug="Amoxicillin", item_code="AMOX500", quantity=5)
    page = client_for(Role.PHARMACIST).post(
        reverse("inventory:dispense", args=[prescription.pk]),
        {"location": pharmacy.pk, "quantity": 5},
    )
    assert page.status_code == 409 and "Only 2" in page.content.decode()
    assert services.on_hand_of(item=item, location=pharmacy) == 2


# --- Alerts and draft orders ---------------------------------------------------------------------


def test_crossing_the_reorder_level_alerts_once_and_proposes_one_draft_order(
    pharmacist, events, make_user
):
    supplier = SupplierFactory()
    item, pharmacy = ItemFactory(preferred_supplier=supplier), LocationFactory()
    receive(item, pharmacy, 12)
    services.reorder_level_set(actor=pharmacist, item=item, location=pharmacy, level=10,
                               quantity=100)  # fmt: skip
    assert not Alert.objects.exists()
    patient = PrescriptionFactory().patient

    def dispense(n):
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=n, patient=patient
        )

    dispense(2)  # 10: at the level, the crossing
    dispense(1)  # 9: still low, no second alert
    dispense(1)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK, resolved_at__isnull=True).count() == 1
    assert [name for name, _ in events].count("stock.low") == 1
    assert Notification.objects.filter(user=pharmacist, title__startswith="Low stock").count() == 1
    [order] = PurchaseOrder.objects.all()
    assert order.status == OrderStatus.DRAFT and order.supplier == supplier
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(item, 100)]

    # Back above the level, then down through it again: a new crossing, but the open order is
    # not duplicated.
    receive(item, pharmacy, 20)
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()
    dispense(20)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).count() == 2
    assert PurchaseOrder.objects.count() == 1


def test_a_lot_entering_the_expiry_window_alerts_once(pharmacist, events, settings):
    settings.INVENTORY_EXPIRY_WARNING_DAYS = 30
    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 5, batch="SOON", days=10)
    receive(item, pharmacy, 5, batch="LATER", days=100)
    assert [p["batch_number"] for n, p in events if n == "lot.expiring"] == ["SOON"]
    assert services.lots_expiring_sweep() == 0  # already raised
    Lot.objects.filter(batch_number="LATER").update(
        expiry_date=timezone.localdate() + timedelta(days=20)
    )
    assert services.lots_expiring_sweep() == 1
    assert services.lots_expiring_sweep() == 0
    assert Alert.objects.filter(kind=AlertKind.EXPIRING).count() == 2
    assert Notification.objects.filter(user=pharmacist, title__startswith="Expiring").count() == 2


def test_the_pharmacists_dashboard_shows_the_alerts(client_for, pharmacist):
    item, pharmacy = ItemFactory(name="Salbutamol"), LocationFactory()
    receive(item, pharmacy, 3)
    services.reorder_level_set(actor=pharmacist, item=item, location=pharmacy, level=5,
                               quantity=10)  # fmt: skip
    page = client_for(Role.PHARMACIST).get(reverse("core:dashboard")).content.decode()
    assert "Stock alerts" in page and "Salbutamol" in page and "Dispensing queue" in page


def test_writing_off_an_expiring_lot_closes_its_alert(pharmacist, settings):
    settings.INVENTORY_EXPIRY_WARNING_DAYS = 30
    item, pharmacy = ItemFactory(), LocationFactory()
    lot = receive(item, pharmacy, 4, batch="SOON", days=5)
    alert = Alert.objects.get(kind=AlertKind.EXPIRING, lot=lot)
    services.stock_adjust(actor=pharmacist, lot=lot, location=pharmacy, quantity=-3,
                          reason="expiry")  # fmt: skip
    alert.refresh_from_db()
    assert alert.resolved_at is None  # one left
    services.stock_adjust(actor=pharmacist, lot=lot, location=pharmacy, quantity=-1,
                          reason="expiry")  # fmt: skip
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_nothing_is_dispensed_to_a_record_merged_into_another(pharmacist):
    from hms.patients.models import Patient
    from hms.patients.tests.factories import PatientFactory

    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 5)
    duplicate, survivor = PatientFactory(), PatientFactory()
    Patient.objects.filter(pk=duplicate.pk).update(merged_into=survivor)
    with pytest.raises(Conflict) as refused:
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=1, patient=duplicate
        )
    assert refused.value.code == "patient_merged"
    assert services.on_hand_of(item=item, location=pharmacy) == 5
