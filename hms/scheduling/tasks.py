"""Background jobs of scheduling (Django's tasks framework). `manage.py crontask` enqueues them
on their schedule and `manage.py task_worker` runs them; cron running `manage.py send_reminders`
does the same. Both are safe to run twice."""

from crontask import cron
from django.tasks import task

from hms.scheduling import services


@cron("*/5 * * * *")
@task
def send_due_reminders() -> int:
    return services.reminders_send_due()


@cron("* * * * *")
@task
def expire_waitlist_offers() -> int:
    return services.waitlist_expire_offers()
