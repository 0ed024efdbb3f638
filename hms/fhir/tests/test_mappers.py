import pytest

from hms.core.permissions import Role
from hms.fhir import mappers as fhir
from hms.scheduling import services
from hms.scheduling.slots import free_slots
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_schedule_slot_and_appointment_map_to_valid_fhir_resources(make_user, schedule, doctor):
    appointment = services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PatientFactory(), practitioner=doctor,
        start=at(2, 10),
    )  # fmt: skip
    fhir_schedule = fhir.schedule_to_fhir(schedule)
    assert fhir_schedule.actor[0].reference == f"Practitioner/{doctor.pk}"
    slot = free_slots(start=at(2, 9), end=at(2, 10))[0]
    fhir_slot = fhir.slot_to_fhir(slot, schedule.pk)
    assert fhir_slot.status == "free"
    assert fhir_slot.schedule.reference == f"Schedule/{schedule.pk}"
    resource = fhir.appointment_to_fhir(appointment)
    assert resource.status == "booked"
    assert {p.actor.reference for p in resource.participant} == {
        f"Patient/{appointment.patient_id}",
        f"Practitioner/{doctor.pk}",
        f"Location/{appointment.department_id}",
    }
    assert resource.minutesDuration == 15
