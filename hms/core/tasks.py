"""Background jobs of the core: the audit sealer and the outbox dispatcher. `manage.py crontask`
enqueues them every minute and the task worker runs them; `manage.py audit_seal` and
`manage.py dispatch_events` do the same by hand. Safe to run twice: sealers take turns on the
chain head's lock, and a subscriber's delivery row makes a second delivery a no-op."""

from crontask import cron
from django.tasks import task

from hms.core.audit import audit_seal
from hms.core.outbox import outbox_dispatch


@cron("* * * * *")
@task
def seal_audit_trail() -> int:
    return audit_seal()


@cron("* * * * *")
@task
def dispatch_events() -> int:
    """Deliver the outbox; `emit` also queues this after commits that stored events (one task
    per process per OUTBOX_DISPATCH_WINDOW_MS, see `hms.core.events.delivery_queue`)."""
    return outbox_dispatch()
