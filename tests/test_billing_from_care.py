"""Charges from care reach billing through domain events only, after the care's transaction
commits, once per source: a completed appointment, a resulted lab test, a dispense."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from hms.billing.models import Charge, Invoice, InvoiceStatus, PriceItem, PriceKind
from hms.clinical import services as clinical
from hms.clinical.models import Encounter
from hms.clinical.tests.factories import LabOrderFactory
from hms.core.events import emit
from hms.core.permissions import Role
from hms.scheduling import services as scheduling
from hms.scheduling.models import BookingKind
from hms.scheduling.tests.factories import PatientFactory, ServiceFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def _price(kind, **fields) -> PriceItem:
    fields.setdefault("code", f"P-{kind}-{PriceItem.objects.count()}")
    return PriceItem.objects.create(
        name=fields.pop("name", "Priced item"), kind=kind,
        unit_price=fields.pop("unit_price", Decimal("60.00")),
        valid_from=date(2020, 1, 1), **fields,
    )  # fmt: skip


def _walk_in(make_user, service):
    doctor = weekly_schedule(department=service.department).practitioner
    appointment = scheduling.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(), practitioner=doctor,
        start=timezone.now(), kind=BookingKind.WALK_IN, service=service,
    )  # fmt: skip
    return doctor, appointment, Encounter.objects.get(appointment_id=str(appointment.pk))


def test_completing_a_visit_posts_its_consultation_once_after_commit(
    make_user, django_capture_on_commit_callbacks
):
    service = ServiceFactory(name="First consultation", price_code="CONS-NEW")
    _price(PriceKind.CONSULTATION, service=service, unit_price=Decimal("75.00"))
    doctor, appointment, encounter = _walk_in(make_user, service)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        clinical.encounter_start(actor=doctor, encounter=encounter)
        clinical.encounter_close(actor=doctor, encounter=encounter)
    assert not Charge.objects.exists()  # nothing before the visit's transaction commits
    for callback in pending:
        callback()
    charge = Charge.objects.get()
    assert charge.source_key == f"appointment:{appointment.pk}"
    assert charge.unit_price == Decimal("75.00") and charge.patient == appointment.patient
    assert charge.department_id == appointment.department_id
    draft = Invoice.objects.get(patient=appointment.patient)
    assert draft.status == InvoiceStatus.DRAFT and draft.total == Decimal("75.00")
    # The event replayed (a retried delivery): nothing is posted twice.
    with django_capture_on_commit_callbacks(execute=True):
        emit("appointment.completed", appointment_id=str(appointment.pk),
             patient_id=str(appointment.patient_id), service_id=service.pk,
             practitioner_id=doctor.pk, department_id=appointment.department_id)  # fmt: skip
    assert Charge.objects.count() == 1


def test_a_service_is_priced_by_its_price_code_when_no_item_names_it(
    make_user, django_capture_on_commit_callbacks
):
    service = ServiceFactory(name="Follow-up", price_code="CONS-FU-x")
    _price(PriceKind.CONSULTATION, code="CONS-FU-x", unit_price=Decimal("40.00"))
    doctor, appointment, encounter = _walk_in(make_user, service)
    with django_capture_on_commit_callbacks(execute=True):
        clinical.encounter_start(actor=doctor, encounter=encounter)
        clinical.encounter_close(actor=doctor, encounter=encounter)
    assert Charge.objects.get().unit_price == Decimal("40.00")


def test_a_visit_without_a_price_posts_nothing_and_still_completes(
    make_user, django_capture_on_commit_callbacks
):
    doctor, appointment, encounter = _walk_in(make_user, ServiceFactory())
    with django_capture_on_commit_callbacks(execute=True):
        clinical.encounter_start(actor=doctor, encounter=encounter)
        clinical.encounter_close(actor=doctor, encounter=encounter)
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    assert not Charge.objects.exists()


def test_a_lab_result_posts_the_tests_charge_once_per_order(
    make_user, django_capture_on_commit_callbacks
):
    _price(PriceKind.LAB, lab_test_code="2823-3", unit_price=Decimal("12.50"))
    lab = make_user(Role.LAB)
    order = LabOrderFactory()
    clinical.lab_order_collect(actor=lab, order=order)
    with django_capture_on_commit_callbacks(execute=True):
        clinical.lab_result_record(actor=lab, order=order, value="4.2")
    with django_capture_on_commit_callbacks(execute=True):
        clinical.lab_result_record(
            actor=lab, order=order, value="4.4", analyte="Potassium (repeat)", unit="mmol/L"
        )
    charge = Charge.objects.get()
    assert charge.source_key == f"lab_order:{order.pk}"
    assert charge.unit_price == Decimal("12.50") and charge.patient_id == order.patient_id


def test_a_dispense_posts_the_medicine_priced_by_its_item_code(django_capture_on_commit_callbacks):
    _price(PriceKind.MEDICINE, inventory_item_code="AMOX500", unit_price=Decimal("0.35"))
    patient = PatientFactory()
    payload = dict(dispense_id=41, patient_id=str(patient.pk), item_code="AMOX500",
                   item_name="Amoxicillin 500 mg", quantity=Decimal("21"),
                   prescription_id=None)  # fmt: skip
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            emit("medication.dispensed", **payload)
    charge = Charge.objects.get()
    assert charge.quantity == Decimal("21") and charge.description == "Amoxicillin 500 mg"
    assert charge.line.total == Decimal("7.35")
