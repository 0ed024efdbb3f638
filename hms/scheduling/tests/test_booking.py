import threading
from datetime import time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hms.core.errors import Conflict, DomainError, NotAllowed, NotFound
from hms.core.events import subscribe
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import PatientMerge
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus, BookingChannel, BookingKind
from hms.scheduling.slots import free_slots
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def test_a_receptionist_books_a_free_slot(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    patient = PatientFactory()
    appointment = services.appointment_book(
        actor=clerk, patient=patient, practitioner=doctor, start=at(2, 10)
    )
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.end - appointment.start == timedelta(minutes=15)
    assert appointment.location == "Clinic 1"


def test_the_booked_slot_is_no_longer_free(make_user, doctor):
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=PatientFactory(),
        practitioner=doctor,
        start=at(2, 10),
    )
    starts = [s.start for s in free_slots(start=at(2, 9), end=at(2, 12))]
    assert at(2, 10) not in starts
    assert at(2, 10, 15) in starts


def test_a_second_booking_of_the_same_slot_is_refused_with_slot_taken(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    with pytest.raises(Conflict) as error:
        services.appointment_book(
            actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
        )
    assert error.value.code == "slot_taken"


def test_the_database_refuses_an_overlapping_appointment_of_a_practitioner(doctor):
    """Not only the service: a direct insert of an overlapping time fails in the database."""
    first = PatientFactory()
    Appointment.objects.create(
        patient=first,
        practitioner=doctor,
        department_id=doctor.schedule.department_id,
        start=at(2, 10),
        end=at(2, 10, 30),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            patient=PatientFactory(),
            practitioner=doctor,
            department_id=doctor.schedule.department_id,
            start=at(2, 10, 15),
            end=at(2, 10, 45),
        )


def test_the_database_refuses_moving_an_appointment_onto_another(doctor):
    department_id = doctor.schedule.department_id
    Appointment.objects.create(
        patient=PatientFactory(), practitioner=doctor, department_id=department_id,
        start=at(2, 10), end=at(2, 10, 15),
    )  # fmt: skip
    second = Appointment.objects.create(
        patient=PatientFactory(), practitioner=doctor, department_id=department_id,
        start=at(2, 11), end=at(2, 11, 15),
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=second.pk).update(start=at(2, 10, 5), end=at(2, 10, 20))


def test_a_cancelled_appointment_does_not_block_its_time(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    first = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    services.appointment_cancel(actor=clerk, appointment=first, reason="Patient is away")
    second = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    assert second.status == AppointmentStatus.BOOKED


def test_a_patient_cannot_hold_two_appointments_at_the_same_time(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    other_doctor = weekly_schedule().practitioner
    patient = PatientFactory()
    services.appointment_book(actor=clerk, patient=patient, practitioner=doctor, start=at(2, 10))
    with pytest.raises(Conflict) as error:
        services.appointment_book(
            actor=clerk, patient=patient, practitioner=other_doctor, start=at(2, 10)
        )
    assert error.value.code == "patient_busy"


def test_a_time_outside_working_hours_cannot_be_booked(make_user, doctor):
    with pytest.raises(Conflict):
        services.appointment_book(
            actor=make_user(Role.RECEPTIONIST),
            patient=PatientFactory(),
            practitioner=doctor,
            start=at(2, 20),
        )


def test_a_nurse_may_not_book(make_user, doctor):
    with pytest.raises(NotAllowed):
        services.appointment_book(
            actor=make_user(Role.NURSE), patient=PatientFactory(), practitioner=doctor,
            start=at(2, 10),
        )  # fmt: skip


def test_a_patient_can_never_book_for_another_patient(doctor):
    me = PortalPatientFactory()
    with pytest.raises(NotFound):
        services.appointment_book(
            actor=me.user, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
        )


def test_reception_books_walk_ins_but_urgent_overbooking_stays_with_clinicians(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    with pytest.raises(NotAllowed):
        services.appointment_book(
            actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10),
            kind=BookingKind.URGENT,
        )  # fmt: skip
    walk_in = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=timezone.now(),
        kind=BookingKind.WALK_IN,
    )  # fmt: skip
    assert walk_in.overbooked and walk_in.kind == BookingKind.WALK_IN
    urgent = services.appointment_book(
        actor=make_user(Role.DOCTOR), patient=PatientFactory(), practitioner=doctor,
        start=at(2, 10), kind=BookingKind.URGENT,
    )  # fmt: skip
    assert urgent.overbooked and urgent.kind == BookingKind.URGENT


def test_a_walk_in_is_checked_in_at_once_and_announces_it(make_user, doctor):
    seen = []
    handler = subscribe("appointment.checked_in")(lambda **payload: seen.append(payload))
    try:
        walk_in = services.appointment_book(
            actor=make_user(Role.DOCTOR), patient=PatientFactory(), practitioner=doctor,
            start=timezone.now(), kind=BookingKind.WALK_IN,
        )  # fmt: skip
    finally:
        from hms.core.events import _handlers

        _handlers["appointment.checked_in"].remove(handler)
    assert walk_in.status == AppointmentStatus.CHECKED_IN and walk_in.overbooked
    assert seen[0]["appointment_id"] == str(walk_in.pk)


def test_check_in_emits_the_event_the_clinical_record_listens_to(make_user, doctor, settings):
    settings.CHECK_IN_OPENS_HOURS_BEFORE = 3 * 24  # the booking is two days ahead
    clerk = make_user(Role.RECEPTIONIST)
    appointment = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    seen = []
    handler = subscribe("appointment.checked_in")(lambda **payload: seen.append(payload))
    try:
        services.appointment_check_in(actor=clerk, appointment=appointment)
    finally:
        from hms.core.events import _handlers

        _handlers["appointment.checked_in"].remove(handler)
    payload = seen[0]
    assert payload["appointment_id"] == str(appointment.pk)
    assert payload["patient"] == appointment.patient
    assert payload["practitioner"] == doctor
    assert payload["department"] == appointment.department
    assert payload["actor"] == clerk


def test_an_appointment_cannot_be_checked_in_twice(make_user, doctor, settings):
    settings.CHECK_IN_OPENS_HOURS_BEFORE = 3 * 24  # the booking is two days ahead
    clerk = make_user(Role.RECEPTIONIST)
    appointment = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    services.appointment_check_in(actor=clerk, appointment=appointment)
    with pytest.raises(Conflict):
        services.appointment_check_in(actor=clerk, appointment=appointment)


def test_encounter_events_move_the_visit_to_consultation_then_completed(
    make_user, doctor, settings
):
    settings.CHECK_IN_OPENS_HOURS_BEFORE = 3 * 24  # the booking is two days ahead
    from hms.core.events import emit

    clerk = make_user(Role.RECEPTIONIST)
    appointment = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    services.appointment_check_in(actor=clerk, appointment=appointment)
    emit("encounter.started", encounter=None, appointment_id=str(appointment.pk), actor=doctor)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_CONSULTATION
    emit("encounter.completed", encounter=None, appointment_id=str(appointment.pk), actor=doctor)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_a_completed_appointment_cannot_be_cancelled(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    appointment = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    services.appointment_complete(actor=doctor, appointment_id=appointment.pk)
    with pytest.raises(Conflict):
        services.appointment_cancel(actor=clerk, appointment=appointment, reason="x")


def test_staff_must_give_a_reason_to_cancel(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    appointment = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    with pytest.raises(DomainError):
        services.appointment_cancel(actor=clerk, appointment=appointment, reason=" ")


def test_a_patient_cannot_cancel_online_inside_the_cutoff(settings):
    settings.APPOINTMENT_CANCEL_CUTOFF_HOURS = 2
    doctor = weekly_schedule(start=time(0, 0), end=time(23, 59)).practitioner
    me = PortalPatientFactory()
    soon = timezone.now() + timedelta(hours=1)
    slot = free_slots(start=soon, end=soon + timedelta(hours=1))[0]
    appointment = services.appointment_book(
        actor=me.user, patient=me, practitioner=doctor, start=slot.start
    )
    with pytest.raises(DomainError) as error:
        services.appointment_cancel(actor=me.user, appointment=appointment, reason="")
    assert error.value.code == "cancellation_cutoff"
    assert "2 hours" in error.value.message


def test_a_patient_reschedules_their_own_appointment(doctor):
    me = PortalPatientFactory()
    appointment = services.appointment_book(
        actor=me.user, patient=me, practitioner=doctor, start=at(2, 10)
    )
    moved = services.appointment_reschedule(actor=me.user, appointment=appointment, start=at(3, 11))
    assert moved.start == at(3, 11)
    assert at(2, 10) in [s.start for s in free_slots(start=at(2, 9), end=at(2, 12))]


def test_rescheduling_onto_a_taken_slot_is_refused(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 11)
    )
    mine = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    with pytest.raises(Conflict):
        services.appointment_reschedule(actor=clerk, appointment=mine, start=at(2, 11))


def test_a_patient_merge_moves_appointments_and_an_unmerge_moves_them_back(doctor):
    from hms.core.events import emit

    clerk = None
    survivor, duplicate = PatientFactory(), PatientFactory()
    appointment = Appointment.objects.create(
        patient=duplicate, practitioner=doctor, department_id=doctor.schedule.department_id,
        start=at(2, 10), end=at(2, 10, 15),
    )  # fmt: skip
    merge = PatientMerge.objects.create(survivor=survivor, duplicate=duplicate)
    emit("patient.merged", survivor=survivor, duplicate=duplicate, actor=clerk, merge=merge)
    appointment.refresh_from_db()
    assert appointment.patient == survivor
    assert merge.moved_ids("scheduling.appointment") == [str(appointment.pk)]
    emit("patient.unmerged", survivor=survivor, duplicate=duplicate, actor=clerk, merge=merge)
    appointment.refresh_from_db()
    assert appointment.patient == duplicate


def _book_in_thread(barrier, results, clerk_id, patient_id, doctor_id, start):
    from hms.accounts.models import User
    from hms.patients.models import Patient

    try:
        clerk = User.objects.get(pk=clerk_id)
        patient = Patient.objects.get(pk=patient_id)
        doctor = User.objects.get(pk=doctor_id)
        barrier.wait(timeout=30)
        services.appointment_book(actor=clerk, patient=patient, practitioner=doctor, start=start)
        results.append("booked")
    except Conflict as exc:
        results.append(exc.code)
    except Exception as exc:  # anything else is a failure the test reports
        results.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_of_one_slot_let_exactly_one_win(make_user):
    doctor = weekly_schedule().practitioner
    clerk = make_user(Role.RECEPTIONIST)
    patients = [PatientFactory() for _ in range(20)]
    start = at(2, 10)
    barrier = threading.Barrier(20)
    results: list[str] = []
    threads = [
        threading.Thread(
            target=_book_in_thread, args=(barrier, results, clerk.pk, p.pk, doctor.pk, start)
        )
        for p in patients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["booked"] + ["slot_taken"] * 19
    assert Appointment.objects.filter(practitioner=doctor).count() == 1


def test_the_busy_test_finds_overlaps_with_any_earlier_long_interval():
    from hms.scheduling.slots import _busy_test

    day = at(2, 0)
    h = timedelta(hours=1)
    overlaps = _busy_test([(day, day + 5 * h), (day + h, day + 2 * h), (day + 6 * h, day + 7 * h)])
    assert overlaps(day + 3 * h, day + 4 * h)  # inside the long first interval
    assert not overlaps(day + 5 * h, day + 6 * h)  # touching ends do not overlap
    assert overlaps(day + 6 * h, day + 6.5 * h)
    assert not overlaps(day - h, day)


def test_a_portal_patient_booking_through_the_entry_point_books_their_own_record_by_portal():
    me = PortalPatientFactory()
    doctor = weekly_schedule().practitioner
    appointment = services.appointment_book_as(actor=me.user, practitioner=doctor, start=at(2, 10))
    assert appointment.patient == me
    assert appointment.channel == BookingChannel.PORTAL


def test_a_portal_patient_naming_another_patient_is_refused_as_not_found():
    me, other = PortalPatientFactory(), PatientFactory()
    doctor = weekly_schedule().practitioner
    with pytest.raises(NotFound):
        services.appointment_book_as(
            actor=me.user, patient_id=str(other.pk), practitioner=doctor, start=at(2, 10)
        )
    assert not Appointment.objects.exists()


def test_staff_booking_through_the_entry_point_needs_a_patient_and_keeps_their_channel(
    make_user, doctor
):
    clerk = make_user(Role.RECEPTIONIST)
    with pytest.raises(DomainError) as refused:
        services.appointment_book_as(actor=clerk, practitioner=doctor, start=at(2, 10))
    assert refused.value.fields == {"patient": "This field is required."}
    appointment = services.appointment_book_as(
        actor=clerk,
        patient_id=str(PatientFactory().pk),
        practitioner=doctor,
        start=at(2, 10),
        channel=BookingChannel.API,
    )
    assert appointment.channel == BookingChannel.API


def test_a_role_that_may_not_book_is_refused_before_the_patient_is_read(make_user, doctor):
    with pytest.raises(NotAllowed):
        services.appointment_book_as(
            actor=make_user(Role.LAB),
            patient_id=str(PatientFactory().pk),
            practitioner=doctor,
            start=at(2, 10),
        )
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_a_refused_booking_still_leaves_its_read_of_the_patient_and_nothing_else(make_user, doctor):
    clerk, patient = make_user(Role.RECEPTIONIST), PatientFactory()
    elsewhere = weekly_schedule().practitioner
    services.appointment_book(actor=clerk, patient=patient, practitioner=elsewhere, start=at(2, 10))
    services.appointment_book(actor=clerk, patient=PatientFactory(), practitioner=doctor,
                              start=at(2, 11))  # fmt: skip
    refusals = [
        (str(patient.pk), at(2, 10), "patient_busy"),  # refused by the database
        (str(patient.pk), at(2, 11), "slot_taken"),  # refused before writing
        ("6f1d1a3e-0000-4000-8000-000000000000", at(2, 12), "not_found"),  # no such patient
    ]
    for patient_id, start, code in refusals:
        with pytest.raises(DomainError) as refused:
            services.appointment_book_as(
                actor=clerk, patient_id=patient_id, practitioner=doctor, start=start
            )
        assert refused.value.code == code
    rows = AuditEvent.objects.filter(actor=clerk).exclude(action="appointment.book")
    assert list(rows.order_by("id").values_list("action", flat=True)) == [
        "patient.view", "patient.view", "patient.view_denied",
    ]  # fmt: skip
    assert Appointment.objects.filter(practitioner=doctor).count() == 1
