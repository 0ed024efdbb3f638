from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from hms.core.models import Notification
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Reminder, WaitlistEntry, WaitlistStatus
from hms.scheduling.slots import free_slots
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tomorrow_booking(make_user, doctor):
    patient = PortalPatientFactory(consent_email=True)
    # The first slot in the next 23 hours: inside the 24-hour reminder window at any time of day.
    soon = timezone.now() + timedelta(hours=1)
    slot = free_slots(start=soon, end=soon + timedelta(hours=22), practitioner_ids=[doctor.pk])[0]
    return services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=patient, practitioner=doctor, start=slot.start
    )


def test_the_reminder_job_run_twice_sends_one_reminder(
    tomorrow_booking, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
        call_command("send_reminders")
    assert Reminder.objects.filter(appointment=tomorrow_booking).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [tomorrow_booking.patient.email]
    assert Notification.objects.filter(user=tomorrow_booking.patient.user).count() == 1


def test_the_reminder_task_uses_the_same_once_only_rule(tomorrow_booking):
    from hms.scheduling.tasks import send_due_reminders

    assert send_due_reminders.call() == 1
    assert send_due_reminders.call() == 0


def test_no_reminder_is_sent_before_the_reminder_window(make_user, doctor):
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=PortalPatientFactory(), practitioner=doctor,
        start=at(3, 10),
    )  # fmt: skip
    assert services.reminders_send_due() == 0


def test_a_patient_who_opted_out_gets_no_reminder(
    tomorrow_booking, django_capture_on_commit_callbacks
):
    patient = tomorrow_booking.patient
    services.reminder_opt_out_set(actor=patient.user, patient=patient, opted_out=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due() == 0
    assert mail.outbox == []
    assert not Notification.objects.filter(user=patient.user).exists()


def test_no_email_reminder_without_email_consent(
    make_user, doctor, django_capture_on_commit_callbacks
):
    patient = PortalPatientFactory(consent_email=False)
    # The first slot in the next 23 hours: inside the 24-hour reminder window at any time of day.
    soon = timezone.now() + timedelta(hours=1)
    slot = free_slots(start=soon, end=soon + timedelta(hours=22), practitioner_ids=[doctor.pk])[0]
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST), patient=patient, practitioner=doctor, start=slot.start
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_send_due()
    assert mail.outbox == []
    assert Notification.objects.filter(user=patient.user).count() == 1


def test_a_freed_slot_is_offered_to_the_first_waiting_patient_and_held(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    booked = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    first = PortalPatientFactory()
    second = PortalPatientFactory()
    department = doctor.schedule.department
    services.waitlist_join(actor=clerk, patient=first, department=department, practitioner=doctor)
    services.waitlist_join(actor=clerk, patient=second, department=department)
    services.appointment_cancel(actor=clerk, appointment=booked, reason="Ill")
    offer = WaitlistEntry.objects.get(patient=first)
    assert offer.status == WaitlistStatus.OFFERED and offer.offered_start == at(2, 10)
    assert Notification.objects.filter(user=first.user).exists()
    # Held: not free for anybody else, free for the patient it is offered to.
    assert at(2, 10) not in [s.start for s in free_slots(start=at(2, 9), end=at(2, 12))]
    mine = free_slots(start=at(2, 9), end=at(2, 12), for_patient=first)
    assert at(2, 10) in [s.start for s in mine]
    services.appointment_book(actor=first.user, patient=first, practitioner=doctor, start=at(2, 10))
    offer.refresh_from_db()
    assert offer.status == WaitlistStatus.BOOKED


def test_a_booking_fulfils_the_patient_s_waiting_entries_for_that_doctor_or_department(
    make_user, doctor
):
    """The booking skips its waitlist update when the slot's look-up saw no open entry of the
    patient's; an entry that is open must still be fulfilled, and only a matching one."""
    clerk = make_user(Role.RECEPTIONIST)
    patient, other = PatientFactory(), PatientFactory()
    department = doctor.schedule.department
    for_doctor = services.waitlist_join(
        actor=clerk, patient=patient, department=department, practitioner=doctor
    )
    for_department = services.waitlist_join(actor=clerk, patient=patient, department=department)
    for_another_doctor = services.waitlist_join(
        actor=clerk, patient=patient, department=department, practitioner=make_user(Role.DOCTOR)
    )
    someone_else = services.waitlist_join(actor=clerk, patient=other, department=department)
    services.appointment_book(actor=clerk, patient=patient, practitioner=doctor, start=at(2, 10))
    statuses = {
        entry: WaitlistEntry.objects.get(pk=entry.pk).status
        for entry in (for_doctor, for_department, for_another_doctor, someone_else)
    }
    assert statuses == {
        for_doctor: WaitlistStatus.BOOKED,
        for_department: WaitlistStatus.BOOKED,
        for_another_doctor: WaitlistStatus.WAITING,
        someone_else: WaitlistStatus.WAITING,
    }


def test_an_expired_hold_passes_to_the_next_waiting_patient(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    booked = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10)
    )
    first, second = PortalPatientFactory(), PortalPatientFactory()
    department = doctor.schedule.department
    services.waitlist_join(actor=clerk, patient=first, department=department)
    services.waitlist_join(actor=clerk, patient=second, department=department)
    services.appointment_cancel(actor=clerk, appointment=booked, reason="Ill")
    later = timezone.now() + timedelta(hours=1)
    assert services.waitlist_expire_offers(now=later) == 1
    assert WaitlistEntry.objects.get(patient=first).status == WaitlistStatus.WAITING
    second_offer = WaitlistEntry.objects.get(patient=second)
    assert second_offer.status == WaitlistStatus.OFFERED
    assert second_offer.offered_start == at(2, 10)
