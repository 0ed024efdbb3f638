"""Background jobs of the stores: the daily sweep that raises expiry alerts for lots entering
the warning window (an alert fires once per lot, so running it twice is harmless)."""

from crontask import cron
from django.tasks import task

from hms.inventory import services


@cron("15 6 * * *")
@task
def sweep_expiring_lots() -> int:
    return services.lots_expiring_sweep()
