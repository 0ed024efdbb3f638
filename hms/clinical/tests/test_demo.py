import io
import random

import pytest
from faker import Faker

from hms.accounts.tests.factories import UserFactory
from hms.clinical import demo
from hms.clinical.icd10 import icd10_lookup
from hms.clinical.models import ClinicalNote, Diagnosis, Encounter, LabResult
from hms.core.demo import DemoContext
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_demo_histories_are_realistic_and_seeding_twice_adds_nothing():
    UserFactory(email="doctor@demo.hms", role=Role.DOCTOR)
    UserFactory(email="nurse@demo.hms", role=Role.NURSE)
    UserFactory(role=Role.LAB)
    PatientFactory.create_batch(6)
    ctx = DemoContext(faker=Faker(), rng=random.Random(1), patients=40, out=io.StringIO())
    demo.seed(ctx)
    encounters = Encounter.objects.count()
    assert Encounter.objects.values("patient").distinct().count() == 6
    assert all(icd10_lookup(d.code) for d in Diagnosis.objects.all())
    assert not ClinicalNote.objects.filter(signed_at__isnull=True).exists()
    assert LabResult.objects.exclude(flag="").count() == LabResult.objects.count()
    demo.seed(ctx)
    assert Encounter.objects.count() == encounters
