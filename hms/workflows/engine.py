"""The rule engine: a durable subscriber of every stored event. For each enabled rule of the
event whose conditions hold it records a run (once per rule and event: the run's unique key and
the outbox's delivery row make a repeated delivery a no-op), the rule's version, and one action
run per action. Actions due now and kept inside the database (in-app notices, tasks, emails
queued after commit) run at once, in the delivery's transaction; webhooks and actions due later
(reminders, no-show marking) run from `actions_run_due`, which the worker calls after commit
and the scheduler every minute."""

import re
from contextlib import nullcontext
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hms.accounts.models import User
from hms.core.access import as_system
from hms.core.events import subscribe_async
from hms.core.mail import email_after_commit
from hms.core.models import NotificationPreference, OutboxEvent
from hms.core.notifications import notify
from hms.core.outbox import backoff
from hms.core.permissions import Role
from hms.workflows.models import ActionRun, EmailTemplate, Rule, RuleRun, RunStatus, StaffTask

OPERATORS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "gt": "is more than",
    "lt": "is less than",
    "in": "is one of",
}
ACTION_TYPES = {
    "notify_user": "Notify a user in the app",
    "notify_role": "Notify everyone in a role",
    "email_patient": "Email the patient (template)",
    "email_staff": "Email staff (template)",
    "create_task": "Create a staff task",
    "webhook": "Call a webhook",
    "builtin": "Built-in action",
}
# Actions that leave the database: never run inside the delivery's transaction.
OUTSIDE = {"webhook"}


# --- Conditions ----------------------------------------------------------------------------------


def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _moment(value) -> datetime | None:
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


def _ordered(left, right):
    """Both sides as numbers, else as moments, else as text (case-insensitive)."""
    for convert in (_number, _moment):
        a, b = convert(left), convert(right)
        if a is not None and b is not None:
            return a, b
    return str(left).casefold(), str(right).casefold()


def _text(value) -> str:
    return "" if value is None else str(value).strip().casefold()


def condition_holds(condition: dict, payload: dict) -> bool:
    """`{"field", "op", "value"}` against the payload; text compares ignore case."""
    actual = payload.get(condition.get("field", ""))
    op, expected = condition.get("op", "eq"), condition.get("value", "")
    if op == "eq":
        return _text(actual) == _text(expected)
    if op == "ne":
        return _text(actual) != _text(expected)
    if op == "contains":
        if isinstance(actual, list):
            return _text(expected) in [_text(item) for item in actual]
        return _text(expected) in _text(actual)
    if op == "in":
        options = expected if isinstance(expected, list) else str(expected).split(",")
        return _text(actual) in {_text(option) for option in options}
    if op in ("gt", "lt") and actual is not None:
        try:
            left, right = _ordered(actual, expected)
            return left > right if op == "gt" else left < right
        except TypeError:
            return False
    return False


def rule_matches(rule_def: dict, payload: dict) -> bool:
    conditions = rule_def.get("conditions") or []
    results = [condition_holds(c, payload) for c in conditions]
    if not results:
        return True
    return all(results) if rule_def.get("match", "all") == "all" else any(results)


# --- Templates -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def render(text: str, context: dict) -> str:
    """`{{ field }}` replaced by the context's value (plain substitution: no template code)."""
    return _PLACEHOLDER.sub(lambda m: str(context.get(m.group(1), "")), text or "")


def context_of(payload: dict) -> dict:
    """The payload plus words staff read: the patient's name, times in the hospital's zone."""
    context = dict(payload)
    from hms.patients.models import Patient

    patient_id = payload.get("patient_id")
    if patient_id:
        patient = Patient.objects.filter(pk=patient_id).first() if _is_uuid(patient_id) else None
        if patient is not None:
            context.setdefault("patient_name", patient.full_name)
            context.setdefault("patient_mrn", patient.mrn)
    for key, value in payload.items():
        moment = _moment(value) if isinstance(value, str) else None
        if moment is not None and timezone.is_aware(moment):
            context[f"{key}_local"] = f"{timezone.localtime(moment):%a %d %b %Y %H:%M}"
    return context


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- Due times -----------------------------------------------------------------------------------


def due_time(spec: dict, payload: dict, now: datetime) -> datetime:
    """Now, or `delay_minutes` after now or after the payload's `after_field` (a time: negative
    minutes mean before it, as a reminder a day before the start)."""
    base = now
    if spec.get("after_field"):
        moment = _moment(payload.get(spec["after_field"]) or "")
        if moment is not None:
            base = moment
    try:
        minutes = int(spec.get("delay_minutes") or 0)
    except (TypeError, ValueError):
        minutes = 0
    return max(base + timedelta(minutes=minutes), now)


# --- Actions -------------------------------------------------------------------------------------


class Skip(Exception):
    """The action has nothing to do (no such user, the appointment is no longer booked)."""


def _users_of(spec: dict, payload: dict) -> list[User]:
    if spec.get("user_field"):
        ref = payload.get(spec["user_field"])
        users = User.objects.filter(pk=ref, is_active=True) if str(ref or "").isdigit() else []
    elif spec.get("role"):
        if spec["role"] not in Role.values:
            raise ValueError(f"unknown role {spec['role']!r}")
        users = User.objects.filter(role=spec["role"], is_active=True)
    elif spec.get("user"):
        ref = str(spec["user"])
        users = User.objects.filter(
            **({"pk": ref} if ref.isdigit() else {"email__iexact": ref}), is_active=True
        )
    else:
        raise ValueError("name a user, a user field or a role")
    found = list(users)
    if not found:
        raise Skip("nobody to reach")
    return found


def notify_by_preference(user: User, *, title: str, body: str = "", url: str = "") -> None:
    """In the app and/or by email, as the user chose (in the app only, by default)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    in_app = preference.in_app if preference else True
    by_email = bool(preference and preference.email and user.email)
    if in_app:
        notify(user=user, title=title, body=body, url=url)
    if by_email:
        email_after_commit(subject=title, body=body, to=user.email)


def _template(spec: dict) -> EmailTemplate:
    template = EmailTemplate.objects.filter(key=spec.get("template", "")).first()
    if template is None:
        raise ValueError(f"no email template {spec.get('template')!r}")
    return template


def _still(spec: dict, payload: dict) -> None:
    """An action due later checks the appointment is still as the rule expects."""
    wanted = spec.get("only_if_status")
    if not wanted or not payload.get("appointment_id"):
        return
    from hms.scheduling.models import Appointment

    wanted = [wanted] if isinstance(wanted, str) else wanted
    status = (
        Appointment.objects.filter(pk=payload["appointment_id"])
        .values_list("status", flat=True)
        .first()
    )
    if status not in wanted:
        raise Skip(f"the appointment is {status or 'gone'}")


def _builtin_mark_no_show(spec: dict, payload: dict, action: ActionRun) -> str:
    from hms.scheduling.models import Appointment, AppointmentStatus
    from hms.scheduling.services import appointment_mark_no_show

    appointment = Appointment.objects.filter(pk=payload.get("appointment_id")).first()
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        raise Skip("the appointment is no longer booked")
    appointment_mark_no_show(actor=None, appointment=appointment)
    return "marked as a no-show"


def _builtin_feedback_request(spec: dict, payload: dict, action: ActionRun) -> str:
    from hms.feedback.services import feedback_request

    if feedback_request(appointment_id=payload.get("appointment_id")) is None:
        raise Skip("already asked, or the visit is not completed")
    return "asked the patient for feedback"


BUILTINS = {"mark_no_show": _builtin_mark_no_show, "feedback_request": _builtin_feedback_request}


def execute(action: ActionRun, payload: dict) -> str:
    """Carry out one action; returns what was done (raises Skip when there is nothing to do)."""
    spec, kind = action.spec, action.kind
    _still(spec, payload)
    context = context_of(payload)
    if kind in ("notify_user", "notify_role"):
        users = _users_of(spec, payload)
        title = render(spec.get("title") or "Notification", context)
        for user in users:
            notify_by_preference(
                user,
                title=title,
                body=render(spec.get("body", ""), context),
                url=spec.get("url", ""),
            )
        return f"notified {len(users)}"
    if kind == "email_patient":
        from hms.patients.models import Patient

        patient = Patient.objects.filter(pk=payload.get("patient_id")).first()
        if patient is None or not patient.email or not patient.consent_email:
            raise Skip("the patient has no email address or did not agree to email")
        template = _template(spec)
        email_after_commit(
            subject=render(template.subject, context),
            body=render(template.body, context),
            to=patient.email,
        )
        return "emailed the patient"
    if kind == "email_staff":
        template = _template(spec)
        users = [u for u in _users_of(spec, payload) if u.email]
        for user in users:
            email_after_commit(
                subject=render(template.subject, context),
                body=render(template.body, context),
                to=user.email,
            )
        return f"emailed {len(users)}"
    if kind == "create_task":
        assignee = None
        role = spec.get("role", "")
        if not role:
            assignee = _users_of(spec, payload)[0]
        elif role not in Role.values:
            raise ValueError(f"unknown role {role!r}")
        try:
            due_minutes = int(spec.get("due_minutes") or 0)
        except (TypeError, ValueError):
            due_minutes = 0
        task = StaffTask.objects.create(
            title=render(spec.get("title") or "Task", context)[:200],
            details=render(spec.get("details", ""), context),
            assignee=assignee,
            role=role,
            due_at=timezone.now() + timedelta(minutes=due_minutes) if due_minutes else None,
            patient_id=str(payload.get("patient_id") or "")[:64],
            appointment_id=str(payload.get("appointment_id") or "")[:64],
            invoice_id=str(payload.get("invoice_id") or "")[:64],
            item_id=str(payload.get("item_id") or "")[:64],
            source=action,
        )
        return f"task #{task.pk}"
    if kind == "webhook":
        from hms.workflows.webhooks import webhook_call

        return webhook_call(
            url=spec.get("url", ""),
            secret=spec.get("secret", ""),
            body={"event": action.run.event_name, "event_id": str(action.run.event_id),
                  "rule": action.run.rule_id, "payload": payload},
        )  # fmt: skip
    if kind == "builtin" and spec.get("name") in BUILTINS:
        return BUILTINS[spec["name"]](spec, payload, action)
    raise ValueError(f"unknown action {kind!r}")


def _finish(run: RuleRun) -> None:
    statuses = set(run.actions.values_list("status", flat=True))
    if RunStatus.PENDING in statuses:
        status, finished = RunStatus.PENDING, None
    elif RunStatus.FAILED in statuses:
        status, finished = RunStatus.FAILED, timezone.now()
    else:
        status, finished = RunStatus.SUCCEEDED, timezone.now()
    RuleRun.objects.filter(pk=run.pk).update(status=status, finished_at=finished)


def attempt(action: ActionRun) -> None:
    """Run the action once and record the outcome: done, skipped, or failed (retried with
    backoff until WORKFLOW_ACTION_MAX_ATTEMPTS, then shown as failed)."""
    now = timezone.now()
    action.attempts += 1
    # A webhook waits on another server: it runs outside any transaction.
    scope = nullcontext() if action.kind in OUTSIDE else transaction.atomic()
    try:
        with scope, as_system():  # the hospital's own process, started by a checked service
            result = execute(action, action.run.payload)
        action.status, action.result, action.error = RunStatus.SUCCEEDED, result[:300], ""
        action.finished_at = timezone.now()
    except Skip as why:
        action.status, action.result, action.finished_at = RunStatus.SKIPPED, str(why)[:300], now
    except Exception as exc:
        action.error = f"{type(exc).__name__}: {exc}"[:2000]
        permanent = isinstance(exc, ValueError)
        if permanent or action.attempts >= settings.WORKFLOW_ACTION_MAX_ATTEMPTS:
            action.status, action.finished_at = RunStatus.FAILED, now
        else:
            action.due_at = now + backoff(action.attempts)
    action.save(update_fields=["attempts", "status", "result", "error", "finished_at", "due_at"])
    _finish(action.run)


def fire(rule: Rule, event: OutboxEvent) -> RuleRun | None:
    """Record the rule's run on the event (once) and run what is due now inside the database."""
    definition = rule.definition()
    if not rule_matches(definition, event.payload):
        return None
    run, created = RuleRun.objects.get_or_create(
        rule=rule,
        event_id=event.event_id,
        defaults={
            "rule_version": rule.version,
            "event_name": event.name,
            "payload": event.payload,
        },
    )
    if not created:
        return run
    now = timezone.now()
    later = False
    for position, spec in enumerate(rule.actions):
        action = ActionRun.objects.create(
            run=run,
            position=position,
            kind=str(spec.get("type", "")),
            spec=spec,
            due_at=due_time(spec, event.payload, now),
        )
        if action.kind in OUTSIDE or action.due_at > now:
            later = True
        else:
            attempt(action)
            later = later or action.status == RunStatus.PENDING  # retried with backoff
    _finish(run)
    if later:
        transaction.on_commit(_run_due_soon)
    return run


def _run_due_soon() -> None:
    import contextlib

    from hms.workflows.tasks import run_due_actions

    with contextlib.suppress(Exception):  # the scheduler's next minute runs them instead
        run_due_actions.enqueue()


@subscribe_async("*", name="workflows.rules")
def on_event(*, event: OutboxEvent) -> None:
    for rule in Rule.objects.filter(event=event.name, enabled=True).order_by("pk"):
        fire(rule, event)


LEASE = timedelta(minutes=5)


def actions_run_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Run the actions whose time has come. Each is claimed by moving its due time a lease
    ahead (a conditional update), so two workers never run one twice at once, and one that dies
    mid-action is retried when the lease ends."""
    now = now or timezone.now()
    done = 0
    due = ActionRun.objects.filter(status=RunStatus.PENDING, due_at__lte=now).order_by("due_at")
    for action in due.select_related("run")[:limit]:
        claimed = ActionRun.objects.filter(
            pk=action.pk, status=RunStatus.PENDING, due_at=action.due_at
        ).update(due_at=now + LEASE)
        if not claimed:
            continue
        action.due_at = now + LEASE
        attempt(action)
        done += 1
    return done
