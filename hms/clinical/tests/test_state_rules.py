"""State rules are predicates on the models: the encounter page offers an act exactly when the
service accepts it, because both ask the same predicate."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical import services
from hms.clinical.models import EncounterStatus
from hms.clinical.tests.factories import EncounterFactory
from hms.core.errors import Conflict
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def _encounter(doctor, status, patient=None):
    started = timezone.now() - timedelta(hours=1)
    ended = timezone.now() if status == EncounterStatus.CLOSED else None
    extra = {"patient": patient} if patient else {}
    return EncounterFactory(
        practitioner=doctor, status=status, started_at=started, ended_at=ended, **extra
    )


def _accepted(act, **kwargs) -> bool:
    try:
        act(**kwargs)
    except Conflict:
        return False
    return True


@pytest.mark.parametrize("status", EncounterStatus.values)
def test_the_page_offers_start_close_and_entries_exactly_when_the_services_accept_them(
    client_for, status
):
    client = client_for(Role.DOCTOR)
    doctor = client.user
    encounter = _encounter(doctor, status)
    predicates = {
        "start": encounter.can_start,
        "close": encounter.can_close,
        "entries": encounter.accepts_entries,
    }
    page = client.get(reverse("clinical:encounter", args=[encounter.pk])).content.decode()
    offers = {
        "start": "Start consultation" in page,
        "close": "Close encounter" in page,
        "entries": reverse("clinical:vitals-add", args=[encounter.pk]) in page,
    }
    accepts = {
        "start": _accepted(services.encounter_start, actor=doctor, encounter=encounter),
        "close": _accepted(
            services.encounter_close, actor=doctor, encounter=_encounter(doctor, status)
        ),
        "entries": _accepted(
            services.vitals_record,
            actor=doctor,
            patient=encounter.patient,
            encounter=_encounter(doctor, status, encounter.patient),
            pulse_per_min=70,
        ),
    }
    assert offers == accepts
    assert offers == predicates
