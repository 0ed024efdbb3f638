"""The assistant's daily job: forget conversations older than ASSISTANT_RETENTION_DAYS."""

from crontask import cron
from django.tasks import task

from hms.assistant import services


@cron("30 3 * * *")
@task
def purge_old_conversations() -> int:
    return services.conversations_purge()
