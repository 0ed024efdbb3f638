"""Every write of workflows: rules (versions on each change), dry runs, retries of failed runs,
email templates, staff tasks, and the seeding of the built-in workflows."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.events import CATALOGUE
from hms.core.permissions import Perm, Role, user_has_perm
from hms.workflows import engine
from hms.workflows.models import (
    ActionRun,
    EmailTemplate,
    Match,
    Rule,
    RuleRun,
    RuleVersion,
    RunStatus,
    StaffTask,
    TaskStatus,
)
from hms.workflows.webhooks import WebhookRefused, webhook_resolve

MAX_CONDITIONS = 20
MAX_ACTIONS = 10


def _check_definition(*, event: str, match: str, conditions, actions) -> tuple[list, list]:
    """The rule's parts as clean lists; DomainError naming the field otherwise."""
    if event not in CATALOGUE:
        raise DomainError("Choose an event from the catalogue.", fields={"event": "Unknown."})
    if match not in Match.values:
        raise DomainError("Match all or any.", fields={"match": "Use all or any."})
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise DomainError("Give a list of conditions.", fields={"conditions": "Not a list."})
    if not isinstance(actions, list) or not actions or len(actions) > MAX_ACTIONS:
        raise DomainError(
            f"Give one to {MAX_ACTIONS} actions.", fields={"actions": "One action at least."}
        )
    fields = CATALOGUE[event].fields
    clean_conditions = []
    for number, condition in enumerate(conditions, 1):
        if not isinstance(condition, dict) or condition.get("field") not in fields:
            raise DomainError(
                f"Condition {number}: choose a field of {event}.", fields={"conditions": "Field."}
            )
        if condition.get("op") not in engine.OPERATORS:
            raise DomainError(
                f"Condition {number}: unknown operator.", fields={"conditions": "Operator."}
            )
        value = condition.get("value", "")
        if not isinstance(value, str | int | float | bool | list) or len(str(value)) > 500:
            raise DomainError(f"Condition {number}: bad value.", fields={"conditions": "Value."})
        clean_conditions.append(
            {"field": condition["field"], "op": condition["op"], "value": value}
        )
    clean_actions = []
    for number, action in enumerate(actions, 1):
        if not isinstance(action, dict) or action.get("type") not in engine.ACTION_TYPES:
            raise DomainError(f"Action {number}: unknown type.", fields={"actions": "Type."})
        problem = _action_problem(action, fields)
        if problem:
            raise DomainError(f"Action {number}: {problem}", fields={"actions": problem})
        clean_actions.append(
            {k: v for k, v in action.items() if isinstance(v, str | int | float | bool | list)}
        )
    return clean_conditions, clean_actions


def _action_problem(action: dict, fields: dict) -> str:
    kind = action["type"]
    if any(len(str(v)) > 2000 for v in action.values()):
        return "a value is too long."
    if action.get("role") and action["role"] not in Role.values:
        return "unknown role."
    if action.get("user_field") and action["user_field"] not in fields:
        return "the user field is not in the event."
    if action.get("after_field") and action["after_field"] not in fields:
        return "the time field is not in the event."
    for number in ("delay_minutes", "due_minutes"):
        if action.get(number) not in (None, ""):
            try:
                int(action[number])
            except (TypeError, ValueError):
                return f"{number} must be a whole number."
    targets = ("role", "user", "user_field")
    if kind in ("notify_user", "notify_role", "email_staff", "create_task") and not any(
        action.get(t) for t in targets
    ):
        return "say who: a user, a user field or a role."
    if kind in ("email_patient", "email_staff") and not action.get("template"):
        return "choose an email template."
    if kind == "webhook":
        url = str(action.get("url", ""))
        if not url.startswith("https://"):
            return "webhooks must use https://."
        if not action.get("secret"):
            return "give the webhook a secret (it signs each call)."
    if kind == "builtin" and action.get("name") not in engine.BUILTINS:
        return "unknown built-in action."
    return ""


def _new_version(rule: Rule, actor) -> None:
    RuleVersion.objects.create(
        rule=rule, version=rule.version, definition=rule.definition(), created_by=actor
    )


def rule_create(
    *,
    actor: User,
    name: str,
    event: str,
    actions: list,
    conditions: list | None = None,
    match: str = Match.ALL,
    enabled: bool = True,
    description: str = "",
) -> Rule:
    """A new rule, version 1. Only administrators (WORKFLOW_MANAGE) configure rules."""
    require(actor, Perm.WORKFLOW_MANAGE)
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the rule.", fields={"name": "Required."})
    conditions, actions = _check_definition(
        event=event, match=match, conditions=conditions or [], actions=actions
    )
    with transaction.atomic():
        rule = Rule.objects.create(
            name=name[:200],
            description=description,
            event=event,
            match=match,
            conditions=conditions,
            actions=actions,
            enabled=bool(enabled),
            created_by=actor,
        )
        _new_version(rule, actor)
        audit_record(action="workflow.rule_create", actor=actor, obj=rule, details={"v": 1})
    return rule


def rule_update(*, actor: User, rule: Rule, **changes) -> Rule:
    """Change a rule: a new version; runs already made keep the version they used."""
    require(actor, Perm.WORKFLOW_MANAGE)
    allowed = {"name", "event", "match", "conditions", "actions", "enabled", "description"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError("Unknown fields.", fields={k: "Unknown." for k in unknown})
    merged = {**rule.definition(), "description": rule.description, **changes}
    conditions, actions = _check_definition(
        event=merged["event"],
        match=merged["match"],
        conditions=merged["conditions"],
        actions=merged["actions"],
    )
    if not str(merged["name"]).strip():
        raise DomainError("Name the rule.", fields={"name": "Required."})
    with transaction.atomic():
        locked = Rule.objects.select_for_update().get(pk=rule.pk)
        locked.name = str(merged["name"]).strip()[:200]
        locked.description = merged["description"] or ""
        locked.event, locked.match = merged["event"], merged["match"]
        locked.conditions, locked.actions = conditions, actions
        locked.enabled = bool(merged["enabled"])
        locked.version += 1
        locked.save()
        _new_version(locked, actor)
        audit_record(
            action="workflow.rule_update", actor=actor, obj=locked, details={"v": locked.version}
        )
    return locked


def rule_set_enabled(*, actor: User, rule: Rule, enabled: bool) -> Rule:
    """Switch a rule on or off (a new version, so runs show which state they used)."""
    require(actor, Perm.WORKFLOW_MANAGE)
    return rule_update(actor=actor, rule=rule, enabled=enabled)


def rule_dry_run(*, actor: User, rule: Rule, payload: dict | None = None) -> dict:
    """What the rule would do on a sample event, without doing it: each condition's outcome
    and each action with its texts filled in and its due time."""
    require(actor, Perm.WORKFLOW_MANAGE)
    from hms.workflows.catalogue import sample_payload

    if payload is not None and not isinstance(payload, dict):
        raise DomainError("The sample event must be a JSON object.", fields={"payload": "Object."})
    payload = {**sample_payload(rule.event), **(payload or {})}
    conditions = [
        {**c, "holds": engine.condition_holds(c, payload)} for c in rule.conditions
    ]  # fmt: skip
    matched = engine.rule_matches(rule.definition(), payload)
    now = timezone.now()
    context = {k: v for k, v in payload.items()}
    actions = []
    for spec in rule.actions if matched else []:
        plan = {
            "type": spec.get("type"),
            "due_at": engine.due_time(spec, payload, now).isoformat(),
        }
        for key in ("title", "body", "details"):
            if spec.get(key):
                plan[key] = engine.render(spec[key], context)
        if spec.get("type") == "webhook":
            try:
                webhook_resolve(spec.get("url", ""))
                plan["webhook"] = "allowed"
            except WebhookRefused as why:
                plan["webhook"] = f"refused: {why}"
        actions.append(plan)
    audit_record(action="workflow.rule_dry_run", actor=actor, obj=rule)
    return {
        "rule": rule.pk,
        "version": rule.version,
        "payload": payload,
        "matched": matched,
        "conditions": conditions,
        "actions": actions,
    }


def rule_run_retry(*, actor: User, run: RuleRun) -> RuleRun:
    """Run a failed run's failed actions again, now (the actions that succeeded stay done)."""
    require(actor, Perm.WORKFLOW_MANAGE)
    with transaction.atomic():
        reset = ActionRun.objects.filter(run=run, status=RunStatus.FAILED).update(
            status=RunStatus.PENDING, due_at=timezone.now(), attempts=0, finished_at=None
        )
        if not reset:
            raise Conflict("Nothing failed in this run.", code="nothing_to_retry")
        RuleRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING, finished_at=None)
        audit_record(action="workflow.run_retry", actor=actor, obj=run, details={"actions": reset})
        transaction.on_commit(engine._run_due_soon)
    run.refresh_from_db()
    return run


def email_template_save(
    *, actor: User, key: str, name: str, subject: str, body: str
) -> EmailTemplate:
    """Create or change the email template named `key` (`{{ field }}` placeholders)."""
    require(actor, Perm.WORKFLOW_MANAGE)
    key = (key or "").strip().lower()
    if not key or not key.replace("_", "").replace("-", "").isalnum() or len(key) > 60:
        raise DomainError("Give a short key (letters, digits, -).", fields={"key": "Invalid."})
    if not (subject or "").strip() or not (body or "").strip():
        raise DomainError("A subject and a body are needed.", fields={"subject": "Required."})
    with transaction.atomic():
        template, _ = EmailTemplate.objects.update_or_create(
            key=key,
            defaults={"name": (name or key)[:200], "subject": subject[:200], "body": body},
        )
        audit_record(action="workflow.template_save", actor=actor, obj=template)
    return template


def task_create(
    *,
    actor: User,
    title: str,
    assignee: User | None = None,
    role: str = "",
    due_at: datetime | None = None,
    details: str = "",
    patient_id: str = "",
    appointment_id: str = "",
    invoice_id: str = "",
    item_id: str = "",
) -> StaffTask:
    """A task for a colleague or for a role; any staff member may hand one out."""
    require(actor, Perm.STAFF_AREA)
    title = (title or "").strip()
    if not title:
        raise DomainError("Say what is to be done.", fields={"title": "Required."})
    if role and role not in Role.values:
        raise DomainError("Unknown role.", fields={"role": "Unknown."})
    if assignee is None and not role:
        raise DomainError("Assign the task to a person or a role.", fields={"role": "Required."})
    if assignee is not None and (not assignee.is_active or assignee.role == Role.PATIENT):
        raise DomainError("Tasks go to active staff.", fields={"assignee": "Not staff."})
    with transaction.atomic():
        task = StaffTask.objects.create(
            title=title[:200],
            details=details,
            assignee=assignee,
            role=role,
            due_at=due_at,
            patient_id=str(patient_id)[:64],
            appointment_id=str(appointment_id)[:64],
            invoice_id=str(invoice_id)[:64],
            item_id=str(item_id)[:64],
            created_by=actor,
        )
        audit_record(action="task.create", actor=actor, obj=task, patient=patient_id or None)
    return task


def task_complete(*, actor: User, task: StaffTask) -> StaffTask:
    """The assignee (or anyone in the task's role) marks an open task done."""
    require(actor, Perm.STAFF_AREA)
    mine = task.assignee_id == actor.pk or (task.role and task.role == actor.role)
    if not mine and not user_has_perm(actor, Perm.WORKFLOW_MANAGE):
        raise NotFound("No such task.")
    with transaction.atomic():
        done = StaffTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, done_at=timezone.now(), updated_at=timezone.now()
        )
        if not done:
            raise Conflict("The task is not open.", code="invalid_state")
        audit_record(action="task.complete", actor=actor, obj=task)
    task.refresh_from_db()
    return task


def tasks_visible_to(user: User):
    """Open and recent tasks of the user: theirs and their role's (a query, not evaluated)."""
    return StaffTask.objects.filter(Q(assignee=user) | Q(role=user.role, assignee__isnull=True))


BUILTIN_TEMPLATES = {
    "appointment_reminder": (
        "Appointment reminder",
        "Reminder: your appointment on {{ start_local }}",
        "Dear {{ patient_name }},\n\nThis is a reminder of your appointment in "
        "{{ department_name }} on {{ start_local }}.\n\nIf you cannot come, please cancel it "
        "in the portal or call us.",
    ),
    "critical_result": (
        "Critical lab result (to the ordering doctor)",
        "Critical result: {{ analyte }} for {{ patient_name }}",
        "A critical {{ analyte }} result was recorded for {{ patient_name }} (MRN "
        "{{ patient_mrn }}). Review it in the lab orders now.",
    ),
}

BUILTIN_RULES = {
    "appointment-reminder": {
        "name": "Appointment reminder (a day before)",
        "event": "appointment.booked",
        "actions": [
            {"type": "email_patient", "template": "appointment_reminder",
             "after_field": "start", "delay_minutes": -1440, "only_if_status": ["booked"]},
        ],
    },
    "feedback-request": {
        "name": "Feedback request after the visit",
        "event": "appointment.completed",
        "actions": [{"type": "builtin", "name": "feedback_request"}],
    },
    "no-show-marking": {
        "name": "Mark no-shows when the slot ends",
        "event": "appointment.booked",
        "actions": [
            {"type": "builtin", "name": "mark_no_show", "after_field": "end",
             "delay_minutes": 15, "only_if_status": ["booked"]},
        ],
    },
    "critical-lab-result": {
        "name": "Critical lab result: tell the ordering doctor",
        "event": "lab_result.critical",
        "actions": [
            {"type": "create_task", "user_field": "ordered_by_id", "due_minutes": 30,
             "title": "Act on critical result: {{ analyte }} ({{ patient_name }})",
             "details": "Critical {{ analyte }} for {{ patient_name }}, MRN {{ patient_mrn }}."},
            {"type": "email_staff", "template": "critical_result", "user_field": "ordered_by_id"},
        ],
    },
}  # fmt: skip


def builtin_workflows_seed() -> int:
    """The built-in workflows as ordinary, editable rules (and their email templates); each is
    created once (an edited or deleted one is left alone). Returns how many were created."""
    created = 0
    with transaction.atomic():
        for key, (name, subject, body) in BUILTIN_TEMPLATES.items():
            EmailTemplate.objects.get_or_create(
                key=key, defaults={"name": name, "subject": subject, "body": body}
            )
        for key, spec in BUILTIN_RULES.items():
            if Rule.objects.filter(builtin=key).exists():
                continue
            rule = Rule.objects.create(builtin=key, match=Match.ALL, conditions=[], **spec)
            _new_version(rule, None)
            audit_record(action="workflow.rule_seed", obj=rule)
            created += 1
    return created
