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
def test_the_reminder_task_runs_through_the_tasks_framework():
    result = tasks.send_due_reminders.enqueue()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 0  # nothing due in an empty database
