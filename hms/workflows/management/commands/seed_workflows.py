from django.core.management.base import BaseCommand

from hms.workflows.services import builtin_workflows_seed


class Command(BaseCommand):
    help = "Create the built-in workflows (reminder, feedback, no-shows, critical results) once."

    def handle(self, *args, **options):
        created = builtin_workflows_seed()
        self.stdout.write(self.style.SUCCESS(f"Created {created} built-in workflow rules."))
