"""Rules staff configure (WHEN an event, IF conditions, THEN actions), their versions and runs,
staff tasks, and the email templates administrators edit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hms.core.models import TimeStampedModel
from hms.core.permissions import Role


class Match(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class Rule(TimeStampedModel):
    """WHEN `event` IF `conditions` (all/any) THEN `actions`. Each save is a new version; a run
    records the version it used (`RuleVersion` keeps every one)."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    event = models.CharField(max_length=100, db_index=True)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    builtin = models.SlugField(max_length=60, blank=True)  # seeded workflows, editable
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"], condition=~Q(builtin=""), name="workflows_builtin_once"
            ),
            models.CheckConstraint(condition=Q(match__in=["all", "any"]), name="rule_match_known"),
        ]

    def __str__(self) -> str:
        return self.name

    def definition(self) -> dict:
        return {
            "name": self.name,
            "event": self.event,
            "match": self.match,
            "conditions": self.conditions,
            "actions": self.actions,
            "enabled": self.enabled,
        }


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="workflows_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class RuleRun(models.Model):
    """One firing of a rule on one event (at most one per rule and event)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    rule_version = models.PositiveIntegerField()
    event_id = models.UUIDField()
    event_name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_id"], name="workflows_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.event_name}"


class ActionRun(models.Model):
    """One action of a run: due now or later (reminders), retried with backoff when it fails."""

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=30)
    spec = models.JSONField()  # the action as it was in the rule's version
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="pending"), name="workflows_action_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class StaffTask(TimeStampedModel):
    """A piece of work for a person or for everyone in a role, with a due time and a link to
    what it is about."""

    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    patient_id = models.CharField(max_length=64, blank=True)
    appointment_id = models.CharField(max_length=64, blank=True)
    invoice_id = models.CharField(max_length=64, blank=True)
    item_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.ForeignKey(
        ActionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["role", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignee__isnull=False) | ~Q(role=""), name="task_has_assignee"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "done", "cancelled"]), name="task_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return bool(self.status == TaskStatus.OPEN and self.due_at and self.due_at < timezone.now())


class EmailTemplate(TimeStampedModel):
    """An email that rules send; `{{ field }}` is replaced by the event's value."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
