"""The booking's quick slot look-up (`schedule_for_booking` + `slot_at`) agrees with the general
one (`slot_lookup`, through `free_slots`), start by start over a busy day."""

from datetime import time, timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from hms.scheduling.models import (
    Appointment,
    AppointmentStatus,
    BookingKind,
    ExceptionKind,
    ScheduleException,
    WaitlistEntry,
    WaitlistStatus,
)
from hms.scheduling.slots import schedule_for_booking, slot_at, slot_look_up, slot_lookup
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, WorkingHoursFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def _appointment(schedule, start, minutes=15, **fields):
    return Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=schedule.practitioner,
        department=schedule.department,
        start=start,
        end=start + timedelta(minutes=minutes),
        **fields,
    )


def _compare(schedule, patient, minutes=None) -> int:
    """Every 5-minute start from 08:30 to 17:30 on day 2: the same slot, or (only) one the
    database would refuse because an active appointment overlaps it after its start (one that
    covers the start is seen at once). Returns how many slots were found."""
    found = 0
    for step in range(12 * 9):
        start = at(2, 8, 30) + timedelta(minutes=5 * step)
        general = slot_lookup(
            practitioner_id=schedule.practitioner_id, start=start, for_patient=patient,
            minutes=minutes,
        )  # fmt: skip
        booked = schedule_for_booking(practitioner_id=schedule.practitioner_id)
        quick = slot_at(booked, start=start, for_patient=patient, minutes=minutes)
        if general is not None:
            assert quick == general, start
            found += 1
        elif quick is not None:
            overlapping = Appointment.objects.filter(
                practitioner=schedule.practitioner, start__lt=quick.end, end__gt=quick.start,
                overbooked=False, status=AppointmentStatus.BOOKED,
            )  # fmt: skip
            assert overlapping.exists(), start
            assert not overlapping.filter(start__lte=start).exists(), start
    return found


@pytest.mark.parametrize("minutes", [None, 30])
def test_the_quick_look_up_finds_the_slots_the_general_one_finds(minutes):
    schedule = weekly_schedule(start=time(9), end=time(12))
    day = at(2, 0).weekday()
    WorkingHoursFactory(
        schedule=schedule, weekday=day, start_time=time(13), end_time=time(17), slot_minutes=20,
        break_start=time(15), break_end=time(15, 30),
    )  # fmt: skip
    _appointment(schedule, at(2, 9, 30), minutes=30)
    _appointment(schedule, at(2, 10, 5))  # off the grid: refused by the database, not found
    _appointment(schedule, at(2, 11), status=AppointmentStatus.CANCELLED)
    _appointment(schedule, at(2, 13, 20), overbooked=True, kind=BookingKind.URGENT)
    patient = PatientFactory()
    assert _compare(schedule, patient, minutes) > 10


def test_an_exception_or_a_hold_nearby_sends_the_look_up_the_general_way():
    schedule = weekly_schedule(start=time(9), end=time(12))
    ScheduleException.objects.create(
        schedule=schedule, kind=ExceptionKind.LEAVE, start=at(2, 10), end=at(2, 11)
    )
    held_for = PatientFactory()
    WaitlistEntry.objects.create(
        patient=held_for, department=schedule.department, status=WaitlistStatus.OFFERED,
        offered_practitioner=schedule.practitioner, offered_start=at(2, 11),
        offered_end=at(2, 11, 15), offer_expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    for patient in (held_for, PatientFactory()):
        assert _compare(schedule, patient) == 12 - 4 - (patient != held_for)


def test_a_taken_time_is_refused_after_one_query_and_a_free_one_found_after_four(
    django_assert_num_queries,
):
    schedule = weekly_schedule(start=time(9), end=time(12))
    _appointment(schedule, at(2, 9), minutes=30)
    booked = schedule_for_booking(practitioner_id=schedule.practitioner_id)
    patient = PatientFactory()
    with django_assert_num_queries(1):  # the appointment that covers the time
        assert slot_at(booked, start=at(2, 9, 15), for_patient=patient) is None
    with django_assert_num_queries(4):  # and no exception, no hold, the day's working hours
        assert slot_at(booked, start=at(2, 10), for_patient=patient).start == at(2, 10)


def _open_entries(patient):
    return Q(patient=patient, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED])


def _offer(schedule, patient, start):
    return WaitlistEntry.objects.create(
        patient=patient, department=schedule.department, status=WaitlistStatus.OFFERED,
        offered_practitioner=schedule.practitioner, offered_start=start,
        offered_end=start + timedelta(minutes=15),
        offer_expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip


def test_the_look_up_says_the_waitlist_is_quiet_only_when_no_entry_matters(
    django_assert_num_queries,
):
    schedule = weekly_schedule(start=time(9), end=time(12))
    booked = schedule_for_booking(practitioner_id=schedule.practitioner_id)
    patient = PatientFactory()
    open_entries = _open_entries(patient)

    def look_up(start, waiting=open_entries):
        return slot_look_up(booked, start=start, for_patient=patient, waiting=waiting)

    with django_assert_num_queries(4):  # taken, the waitlist (holds and `waiting`), exceptions,
        found = look_up(at(2, 10))  # the day's working hours
    assert found.slot.start == at(2, 10) and found.waitlist_quiet
    assert not look_up(at(2, 10), waiting=None).waitlist_quiet  # not asked: not known
    entry = WaitlistEntry.objects.create(patient=patient, department=schedule.department)
    with django_assert_num_queries(5):  # the patient waits: holds are asked on their own
        found = look_up(at(2, 10))
    assert found.slot.start == at(2, 10) and not found.waitlist_quiet
    entry.status = WaitlistStatus.BOOKED
    entry.save()
    assert look_up(at(2, 10)).waitlist_quiet  # a fulfilled entry is not open
    _offer(schedule, PatientFactory(), at(2, 11))  # another patient's hold nearby
    found = look_up(at(2, 10))
    assert found.slot.start == at(2, 10) and not found.waitlist_quiet
    assert look_up(at(2, 11)).slot is None  # the held slot itself


def test_a_hold_for_the_patient_themself_leaves_the_slot_theirs_but_not_quiet():
    schedule = weekly_schedule(start=time(9), end=time(12))
    booked = schedule_for_booking(practitioner_id=schedule.practitioner_id)
    patient = PatientFactory()
    _offer(schedule, patient, at(2, 11))
    found = slot_look_up(
        booked, start=at(2, 11), for_patient=patient, waiting=_open_entries(patient)
    )
    assert found.slot.start == at(2, 11) and not found.waitlist_quiet
