import io
import random

import pytest
from faker import Faker

from hms.accounts import demo as accounts_demo
from hms.core.access import as_system
from hms.core.demo import DemoContext
from hms.patients import demo
from hms.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_demo_patients_are_seeded_once_with_the_portal_patient_linked():
    ctx = DemoContext(faker=Faker("en_GB"), rng=random.Random(1), patients=12, out=io.StringIO())
    with as_system():  # as seed_demo runs every seeder
        accounts_demo.seed(ctx)
        demo.seed(ctx)
        demo.seed(ctx)
    assert Patient.objects.count() == 12
    assert Patient.objects.get(user__email="patient@demo.hms").identifiers.exists()
    assert Patient.objects.filter(family_name="Whitfield").count() == 2
