from django.core.management.base import BaseCommand

from hms.accounts.roles import roles_sync


class Command(BaseCommand):
    help = "Mirror the permission catalogue (hms/accounts/permissions.py) into Django's groups."

    def handle(self, *args, **options):
        groups = roles_sync()
        self.stdout.write(
            self.style.SUCCESS(f"{groups} role groups are in step with the catalogue.")
        )
