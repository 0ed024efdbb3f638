"""The walk a patient takes across apps, through the domain events only: check-in (scheduling)
opens the encounter (clinical); starting and closing the encounter move the appointment on."""

import pytest
from django.utils import timezone

from hms.clinical import services as clinical
from hms.clinical.models import Encounter, EncounterStatus
from hms.core.errors import DomainError
from hms.core.permissions import Role
from hms.scheduling import services as scheduling
from hms.scheduling.models import AppointmentStatus, BookingKind
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def test_check_in_opens_the_encounter_and_the_encounter_moves_the_appointment(make_user):
    doctor = weekly_schedule().practitioner
    appointment = scheduling.appointment_book(
        actor=make_user(Role.DOCTOR), patient=PatientFactory(), practitioner=doctor,
        start=timezone.now(), kind=BookingKind.WALK_IN,
    )  # fmt: skip
    encounter = Encounter.objects.get(appointment_id=str(appointment.pk))
    assert encounter.patient == appointment.patient
    assert encounter.practitioner == doctor
    assert encounter.department == appointment.department
    assert encounter.status == EncounterStatus.OPENED

    clinical.encounter_start(actor=doctor, encounter=encounter)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_CONSULTATION

    clinical.encounter_close(actor=doctor, encounter=encounter)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_an_early_check_in_is_refused_and_opens_no_encounter(make_user):
    """Tuesday's appointment checked in on Monday opened its encounter, and closing that
    encounter marked Tuesday's appointment completed."""
    doctor = weekly_schedule().practitioner
    clerk = make_user(Role.RECEPTIONIST)
    appointment = scheduling.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(1, 9)
    )
    with pytest.raises(DomainError):
        scheduling.appointment_check_in(actor=clerk, appointment=appointment)
    assert not Encounter.objects.filter(appointment_id=str(appointment.pk)).exists()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
