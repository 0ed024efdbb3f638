from django.core.management.base import BaseCommand

from hms.assistant.services import conversations_purge


class Command(BaseCommand):
    help = "Delete assistant conversations idle for more than ASSISTANT_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = conversations_purge()
        self.stdout.write(f"Deleted {deleted} conversation(s).")
