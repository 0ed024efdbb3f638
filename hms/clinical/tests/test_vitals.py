"""The possible ranges of vital signs are one table: page, API and database agree on each."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from hms.clinical.forms import VitalsForm
from hms.clinical.models import Vitals
from hms.clinical.tests.factories import EncounterFactory
from hms.clinical.vitals import BLOOD_PRESSURE_MESSAGE, VITAL_SIGNS
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def _edges(sign):
    """(value, possible?) on both sides of each limit."""
    step = Decimal("0.1") if sign.max_digits else Decimal(1)
    return [
        (sign.low - step, False),
        (sign.low, True),
        (sign.high, True),
        (sign.high + step, False),
    ]


CASES = [(sign, value, ok) for sign in VITAL_SIGNS for value, ok in _edges(sign)]


@pytest.fixture
def doctor_client(client_for):
    return client_for(Role.DOCTOR)


def _api_post(client, encounter, values):
    return client.post(
        "/api/v1/vitals/",
        {"encounter": str(encounter.pk), **{k: str(v) for k, v in values.items()}},
        content_type="application/json",
    )


def _database_accepts(encounter, values) -> bool:
    try:
        with transaction.atomic():
            Vitals.objects.create(patient=encounter.patient, **values)
    except IntegrityError:
        return False
    return True


@pytest.mark.parametrize("sign,value,ok", CASES, ids=[f"{s.field}={v}" for s, v, _ in CASES])
def test_a_value_is_accepted_or_refused_alike_by_the_form_the_api_and_the_database(
    doctor_client, sign, value, ok
):
    encounter = EncounterFactory(practitioner=doctor_client.user)
    form = VitalsForm(data={sign.field: str(value)})
    response = _api_post(doctor_client, encounter, {sign.field: value})
    assert form.is_valid() is ok
    assert (response.status_code == 201) is ok
    assert _database_accepts(encounter, {sign.field: value}) is ok
    if not ok:
        assert response.json()["error"]["fields"][sign.field] == form.errors[sign.field]


def test_a_systolic_not_above_the_diastolic_is_refused_alike_by_form_api_and_database(
    doctor_client,
):
    encounter = EncounterFactory(practitioner=doctor_client.user)
    values = {"systolic_mmhg": 80, "diastolic_mmhg": 80}
    form = VitalsForm(data=values)
    response = _api_post(doctor_client, encounter, values)
    assert form.errors["diastolic_mmhg"] == [BLOOD_PRESSURE_MESSAGE]
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["diastolic_mmhg"] == [BLOOD_PRESSURE_MESSAGE]
    assert not _database_accepts(encounter, values)
    assert _database_accepts(encounter, {"systolic_mmhg": 81, "diastolic_mmhg": 80})
