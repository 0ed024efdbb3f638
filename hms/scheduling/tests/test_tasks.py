import pytest
from crontask import scheduler
from django.test import override_settings

from hms.scheduling import tasks

pytestmark = pytest.mark.django_db


def test_the_periodic_jobs_are_registered_with_the_scheduler():
    jobs = {job.name: str(job.trigger) for job in scheduler.get_jobs()}
    assert "send_due_reminders" in jobs
    assert "expire_waitlist_offers" in jobs
    assert "*/5" in jobs["send_due_reminders"]


@override_settings(
    TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
)
def test_the_reminder_task_runs_through_the_tasks_framework(make_user, doctor):
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from hms.core.permissions import Role
    from hms.scheduling import services
    from hms.scheduling.slots import free_slots
    from hms.scheduling.tests.factories import PortalPatientFactory

    soon = timezone.now() + timedelta(hours=1)
    slot = free_slots(start=soon, end=soon + timedelta(hours=22), practitioner_ids=[doctor.pk])[0]
    services.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=PortalPatientFactory(consent_email=True),
        practitioner=doctor,
        start=slot.start,
    )
    mail.outbox.clear()
    result = tasks.send_due_reminders.enqueue()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 1
    assert tasks.send_due_reminders.enqueue().return_value == 0  # sent once
