"""A schedule change re-checks the booked appointments in a fixed number of queries: it never
drops one, flags those now outside working time and unflags those inside again."""

from datetime import time, timedelta

import pytest

from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus, ExceptionKind
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def _booked(schedule, count: int) -> list[Appointment]:
    """`count` booked appointments on the next days at 09:00-09:15 (inside working time)."""
    return [
        Appointment.objects.create(
            patient=PatientFactory(),
            practitioner=schedule.practitioner,
            department=schedule.department,
            start=at(n + 1, 9),
            end=at(n + 1, 9, 15),
            status=AppointmentStatus.BOOKED,
        )  # fmt: skip
        for n in range(count)
    ]


def _add_afternoon_session(admin, schedule):
    return services.working_hours_add(
        actor=admin, schedule=schedule, weekday=0, start_time=time(18), end_time=time(19),
        slot_minutes=15,
    )  # fmt: skip


@pytest.mark.parametrize("count", [5, 50])
def test_adding_working_hours_costs_the_same_queries_for_5_or_50_appointments(
    make_user, count, django_assert_num_queries
):
    admin = make_user(Role.ADMIN)
    schedule = weekly_schedule()
    _booked(schedule, count)
    # savepoint, insert, appointments, hours, exceptions, audit row, release
    with django_assert_num_queries(7):
        _session, flagged = _add_afternoon_session(admin, schedule)
    assert flagged == []


@pytest.mark.parametrize("count", [5, 50])
def test_replacing_the_hours_flags_every_appointment_now_outside_in_one_update(
    make_user, count, django_assert_num_queries
):
    admin = make_user(Role.ADMIN)
    schedule = weekly_schedule()
    booked = _booked(schedule, count)
    afternoons = [
        {"weekday": d, "start_time": time(13), "end_time": time(17), "slot_minutes": 15}
        for d in range(7)
    ]
    with django_assert_num_queries(10):
        flagged = services.working_hours_set(actor=admin, schedule=schedule, sessions=afternoons)
    assert {a.pk for a in flagged} == {a.pk for a in booked}
    assert Appointment.objects.filter(needs_rebooking=True).count() == count
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == count


@pytest.mark.parametrize("doctors", [2, 6])
def test_a_hospital_holiday_looks_only_at_appointments_inside_it(
    make_user, doctors, django_assert_num_queries
):
    admin = make_user(Role.ADMIN)
    schedules = [weekly_schedule() for _ in range(doctors)]
    for schedule in schedules:
        _booked(schedule, 5)  # days 1..5
    holiday_start, holiday_end = at(2, 0), at(3, 0)  # day 2 only
    with django_assert_num_queries(9):
        exception, flagged = services.schedule_exception_add(
            actor=admin, schedule=None, kind=ExceptionKind.HOLIDAY,
            start=holiday_start, end=holiday_end, reason="National holiday",
        )  # fmt: skip
    assert len(flagged) == doctors
    assert all(holiday_start <= a.start < holiday_end for a in flagged)
    services.schedule_exception_remove(actor=admin, exception=exception)
    assert not Appointment.objects.filter(needs_rebooking=True).exists()


def test_an_appointment_inside_the_hours_again_loses_its_flag(make_user):
    admin = make_user(Role.ADMIN)
    schedule = weekly_schedule()
    (appointment,) = _booked(schedule, 1)
    leave = services.schedule_exception_add(
        actor=admin, schedule=schedule, kind=ExceptionKind.LEAVE,
        start=appointment.start - timedelta(hours=1), end=appointment.end + timedelta(hours=1),
    )[0]  # fmt: skip
    appointment.refresh_from_db()
    assert appointment.needs_rebooking
    services.schedule_exception_remove(actor=admin, exception=leave)
    appointment.refresh_from_db()
    assert not appointment.needs_rebooking
