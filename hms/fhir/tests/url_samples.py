"""Arguments for the role-matrix test's visits to the FHIR server's URLs."""


def _patient() -> dict:
    from hms.patients.tests.factories import PatientFactory

    return {"id": PatientFactory().pk}


def _staff() -> dict:
    from hms.accounts.tests.factories import StaffProfileFactory
    from hms.core.permissions import Role

    return {"id": StaffProfileFactory(user__role=Role.DOCTOR).user.pk}


def _hospital() -> dict:
    from hms.core.models import Hospital

    return {"id": Hospital.objects.create(name="Matrix Hospital").pk}


def _department() -> dict:
    from hms.core.models import Department

    return {"id": Department.objects.create(name="Matrix ward", slug="matrix-ward").pk}


def _encounter() -> dict:
    from hms.clinical.tests.factories import EncounterFactory

    return {"id": EncounterFactory().pk}


def _vital_sign() -> dict:
    from hms.clinical.tests.factories import VitalsFactory

    return {"id": f"{VitalsFactory().pk}-pulse"}


def _diagnosis() -> dict:
    from hms.clinical.models import Diagnosis
    from hms.clinical.tests.factories import EncounterFactory

    encounter = EncounterFactory()
    return {"id": Diagnosis.objects.create(patient=encounter.patient, description="Cough").pk}


def _allergy() -> dict:
    from hms.clinical.tests.factories import AllergyFactory

    return {"id": AllergyFactory().pk}


def _prescription() -> dict:
    from hms.clinical.tests.factories import PrescriptionFactory

    return {"id": PrescriptionFactory().pk}


def _schedule():
    from hms.scheduling.tests.factories import weekly_schedule

    return weekly_schedule()


def _appointment() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from hms.accounts.tests.factories import UserFactory
    from hms.core.permissions import Role
    from hms.patients.tests.factories import PatientFactory
    from hms.scheduling import services
    from hms.scheduling.slots import free_slots

    schedule = _schedule()
    now = timezone.now()
    slot = free_slots(
        start=now + timedelta(days=1),
        end=now + timedelta(days=8),
        practitioner_ids=[schedule.practitioner_id],
    )[0]
    appointment = services.appointment_book(
        actor=UserFactory(role=Role.RECEPTIONIST),
        patient=PatientFactory(),
        practitioner=schedule.practitioner,
        start=slot.start,
    )
    return {"id": appointment.pk}


def _slot() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from hms.scheduling.slots import free_slots

    schedule = _schedule()
    now = timezone.now()
    slot = free_slots(
        start=now + timedelta(days=1),
        end=now + timedelta(days=8),
        practitioner_ids=[schedule.practitioner_id],
    )[0]
    return {"id": slot.slot_id}


def _export_job() -> dict:
    from hms.accounts.tests.factories import UserFactory
    from hms.core.permissions import Role
    from hms.fhir.models import ExportJob

    job = ExportJob.objects.create(requested_by=UserFactory(role=Role.ADMIN), request_url="x")
    return {"job_id": job.pk}


URL_SAMPLES = {
    "fhir:Patient-read": _patient,
    "fhir:patient-everything": _patient,
    "fhir:Practitioner-read": _staff,
    "fhir:PractitionerRole-read": _staff,
    "fhir:Organization-read": _hospital,
    "fhir:Location-read": _department,
    "fhir:Encounter-read": _encounter,
    "fhir:Observation-read": _vital_sign,
    "fhir:Condition-read": _diagnosis,
    "fhir:AllergyIntolerance-read": _allergy,
    "fhir:MedicationRequest-read": _prescription,
    "fhir:Appointment-read": _appointment,
    "fhir:Schedule-read": lambda: {"id": _schedule().pk},
    "fhir:Slot-read": _slot,
    "fhir:export-status": _export_job,
    "fhir:export-file": lambda: {**_export_job(), "resource_type": "Patient"},
}
