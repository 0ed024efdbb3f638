"""Background jobs of workflows: actions due now outside the database (webhooks) or later
(reminders, no-show marking), and retries. The worker runs them after the commit that created
them; `manage.py crontask` enqueues them every minute."""

from crontask import cron
from django.tasks import task

from hms.workflows.engine import actions_run_due


@cron("* * * * *")
@task
def run_due_actions() -> int:
    return actions_run_due()
