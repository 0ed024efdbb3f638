"""Demo data of workflows: the built-in rules, and a task for the demo nurse."""

from datetime import timedelta

from django.utils import timezone

from hms.core.demo import DemoContext
from hms.core.permissions import Role
from hms.workflows.models import StaffTask
from hms.workflows.services import builtin_workflows_seed


def seed(ctx: DemoContext) -> None:
    builtin_workflows_seed()
    if not StaffTask.objects.exists():
        StaffTask.objects.create(
            title="Restock the dressing trolley",
            role=Role.NURSE,
            due_at=timezone.now() + timedelta(hours=2),
        )
