"""Background jobs of scheduling (Django's tasks framework). A scheduler runs them, or cron runs
`manage.py send_reminders`; both are safe to run twice."""

from django.tasks import task

from hms.scheduling import services


@task
def send_due_reminders() -> int:
    return services.reminders_send_due()


@task
def expire_waitlist_offers() -> int:
    return services.waitlist_expire_offers()
