"""Background jobs of the core: the audit sealer. `manage.py crontask` enqueues it every minute
and the task worker runs it; `manage.py audit_seal` does the same by hand. Safe to run twice:
sealers take turns on the chain head's lock."""

from crontask import cron
from django.tasks import task

from hms.core.audit import audit_seal


@cron("* * * * *")
@task
def seal_audit_trail() -> int:
    return audit_seal()
