import factory
from django.utils import timezone

from hms.accounts.tests.factories import UserFactory
from hms.clinical.models import (
    Allergy,
    ClinicalNote,
    Encounter,
    LabOrder,
    LabResult,
    Prescription,
    Vitals,
)
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory


class EncounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Encounter

    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(UserFactory, role=Role.DOCTOR)
    reason = "Review"


class VitalsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vitals

    encounter = factory.SubFactory(EncounterFactory)
    patient = factory.SelfAttribute("encounter.patient")
    pulse_per_min = 72
    systolic_mmhg = 120
    diastolic_mmhg = 80


class AllergyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allergy

    patient = factory.SubFactory(PatientFactory)
    substance = "Penicillin"
    reaction = "Rash"
    severity = "moderate"


class PrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescription

    encounter = factory.SubFactory(EncounterFactory)
    patient = factory.SelfAttribute("encounter.patient")
    drug = "Paracetamol"
    strength = "500 mg"


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalNote

    encounter = factory.SubFactory(EncounterFactory)
    patient = factory.SelfAttribute("encounter.patient")
    author = factory.SelfAttribute("encounter.practitioner")
    subjective = "Cough for three days."
    assessment = "Viral upper respiratory tract infection."


class LabOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabOrder

    encounter = factory.SubFactory(EncounterFactory)
    patient = factory.SelfAttribute("encounter.patient")
    test_code = "2823-3"
    test_name = "Potassium"


class LabResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabResult

    order = factory.SubFactory(
        LabOrderFactory,
        status="resulted",
        collected_at=factory.LazyFunction(timezone.now),
        resulted_at=factory.LazyFunction(timezone.now),
    )
    patient = factory.SelfAttribute("order.patient")
    analyte = "Potassium"
    value = 4
    unit = "mmol/L"
    flag = "normal"
