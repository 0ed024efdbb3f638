import pytest
from fhir.resources.R4B.codeableconcept import CodeableConcept

from hms.core.permissions import Role
from hms.fhir import mappers as fhir
from hms.patients.models import IdentifierSystem, PatientIdentifier
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


@pytest.mark.django_db
def test_a_patients_identifier_types_are_not_validated_again_for_each_patient(monkeypatch):
    patients = [PatientFactory(preferred_language="") for _ in range(3)]  # no other concept
    for n, patient in enumerate(patients):
        PatientIdentifier.objects.create(
            patient=patient, system=IdentifierSystem.EXTERNAL_MRN, value=f"EXT-{n}"
        )
    validated = []
    original = CodeableConcept.model_validate.__func__

    def counting(cls, *args, **kwargs):
        validated.append(cls)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(CodeableConcept, "model_validate", classmethod(counting))
    built = [fhir.patient_to_fhir(patient) for patient in patients]
    assert validated == []
    for resource in built:
        mrn, external = resource.identifier
        assert mrn.type.model_dump() == {
            "coding": [{"system": fhir.V2_0203, "code": "MR"}],
            "text": "MRN",
        }
        assert external.type.model_dump() == {"coding": [{"system": fhir.V2_0203, "code": "MR"}]}
        assert external.value.startswith("EXT-")
