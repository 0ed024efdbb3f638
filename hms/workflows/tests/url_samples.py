"""Arguments for the role-matrix test (tests/url_samples.py merges these in)."""


def _rule() -> dict:
    from hms.workflows.models import Rule

    rule = Rule.objects.create(
        name="Sample", event="appointment.booked",
        actions=[{"type": "notify_role", "role": "nurse", "title": "x"}],
    )  # fmt: skip
    return {"rule_id": rule.pk}


def _run() -> dict:
    import uuid

    from hms.workflows.models import RuleRun

    run = RuleRun.objects.create(
        rule_id=_rule()["rule_id"], rule_version=1, event_id=uuid.uuid4(), event_name="x"
    )
    return {"run_id": run.pk}


def _task() -> dict:
    from hms.core.permissions import Role
    from hms.workflows.models import StaffTask

    return {"task_id": StaffTask.objects.create(title="Sample", role=Role.NURSE).pk}


def _notification() -> dict:
    from hms.accounts.tests.factories import UserFactory
    from hms.core.models import Notification

    return {"notification_id": Notification.objects.create(user=UserFactory(), title="x").pk}


URL_SAMPLES = {
    "workflows:rule-detail": _rule,
    "workflows:rule-toggle": _rule,
    "workflows:rule-dry-run": _rule,
    "workflows:run-retry": _run,
    "workflows:template-edit": lambda: {"key": "appointment_reminder"},
    "workflows:task-done": _task,
    "core:notification-read": _notification,
    "workflow-rule-detail": lambda: {"pk": _rule()["rule_id"]},
    "workflow-rule-dry-run": lambda: {"pk": _rule()["rule_id"]},
    "notification-read": lambda: {"pk": _notification()["notification_id"]},
}
