"""Pages of workflows: rules (build, enable, dry-run, versions), run history with retry, the
event catalogue, email templates, and staff tasks."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from hms.accounts.models import User
from hms.core.access import require_perm
from hms.core.errors import DomainError
from hms.core.events import CATALOGUE
from hms.core.permissions import Perm, Role
from hms.workflows import engine, services
from hms.workflows.catalogue import sample_payload
from hms.workflows.forms import actions_from, conditions_from, target_of
from hms.workflows.models import EmailTemplate, Match, Rule, RuleRun, TaskStatus


def _builder_context(request, rule: Rule | None, definition: dict, errors: str = "") -> dict:
    event = definition.get("event") or next(iter(sorted(CATALOGUE)), "")
    kind = CATALOGUE.get(event)
    fields = sorted(kind.fields) if kind else []
    conditions = list(definition.get("conditions") or []) + [{}, {}]
    actions = [{**a, "target": target_of(a)} for a in definition.get("actions") or []]
    actions.append({})
    targets = [(f"role:{r.value}", f"Role: {r.label}") for r in Role if r != Role.PATIENT]
    targets += [(f"field:{f}", f"From the event: {f}") for f in fields if f.endswith("_id")]
    return {
        "rule": rule,
        "definition": definition,
        "events": sorted(CATALOGUE.values(), key=lambda k: k.name),
        "event": event,
        "kind": kind,
        "fields": fields,
        "operators": engine.OPERATORS.items(),
        "action_types": engine.ACTION_TYPES.items(),
        "matches": Match.choices,
        "conditions": conditions,
        "actions": actions,
        "targets": targets,
        "templates": EmailTemplate.objects.order_by("name"),
        "builtins": sorted(engine.BUILTINS),
        "errors": errors,
    }


def _definition_from(request) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "event": request.POST.get("event", ""),
        "match": request.POST.get("match", Match.ALL),
        "conditions": conditions_from(request.POST),
        "actions": actions_from(request.POST),
        "enabled": request.POST.get("enabled") == "on",
        "description": request.POST.get("description", ""),
    }


@require_perm(Perm.WORKFLOW_MANAGE)
def rule_list(request):
    rules = Rule.objects.order_by("name")
    return render(request, "workflows/rule_list.html", {"rules": rules})


@require_perm(Perm.WORKFLOW_MANAGE)
def rule_create(request):
    if request.method == "POST" and "save" in request.POST:
        definition = _definition_from(request)
        try:
            rule = services.rule_create(actor=request.user, **definition)
        except DomainError as exc:
            context = _builder_context(request, None, definition, exc.message)
            return render(request, "workflows/rule_form.html", context, status=400)
        messages.success(request, f"Rule “{rule.name}” created.")
        return redirect("workflows:rule-detail", rule_id=rule.pk)
    source = request.POST if request.method == "POST" else request.GET
    definition = {"event": source.get("event", ""), "name": source.get("name", ""),
                  "match": source.get("match", "all"), "enabled": True}  # fmt: skip
    if request.method == "POST":  # the event changed: the rows are offered for the new event
        definition = _definition_from(request)
        kind = CATALOGUE.get(definition["event"])
        definition["conditions"] = [
            c for c in definition["conditions"] if kind and c["field"] in kind.fields
        ]
    return render(request, "workflows/rule_form.html", _builder_context(request, None, definition))


@require_perm(Perm.WORKFLOW_MANAGE)
def rule_detail(request, rule_id: int):
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method == "POST":
        definition = _definition_from(request)
        # The page never shows a webhook's secret: left blank, the action keeps the one it had.
        for index, action in enumerate(definition["actions"]):
            before = rule.actions[index] if index < len(rule.actions) else {}
            if action["type"] == "webhook" and not action.get("secret") and before.get("secret"):
                action["secret"] = before["secret"]
        try:
            rule = services.rule_update(actor=request.user, rule=rule, **definition)
        except DomainError as exc:
            context = _builder_context(request, rule, definition, exc.message)
            return render(request, "workflows/rule_form.html", context, status=400)
        messages.success(request, f"Saved as version {rule.version}.")
        return redirect("workflows:rule-detail", rule_id=rule.pk)
    context = _builder_context(
        request, rule, {**rule.definition(), "description": rule.description}
    )
    context["versions"] = rule.versions.all()[:10]
    context["runs"] = rule.runs.all()[:10]
    context["sample"] = json.dumps(sample_payload(rule.event), indent=1)
    return render(request, "workflows/rule_form.html", context)


@require_perm(Perm.WORKFLOW_MANAGE)
@require_POST
def rule_toggle(request, rule_id: int):
    rule = get_object_or_404(Rule, pk=rule_id)
    services.rule_set_enabled(actor=request.user, rule=rule, enabled=not rule.enabled)
    return redirect("workflows:rule-list")


@require_perm(Perm.WORKFLOW_MANAGE)
@require_POST
def rule_dry_run(request, rule_id: int):
    rule = get_object_or_404(Rule, pk=rule_id)
    try:
        payload = json.loads(request.POST.get("payload") or "{}")
        result = services.rule_dry_run(actor=request.user, rule=rule, payload=payload)
        error = ""
    except (ValueError, DomainError) as exc:
        result, error = None, getattr(exc, "message", "The sample event is not valid JSON.")
    return render(
        request, "workflows/_dry_run.html", {"result": result, "error": error},
        status=400 if error else 200,
    )  # fmt: skip


@require_perm(Perm.WORKFLOW_MANAGE)
def run_list(request):
    runs = RuleRun.objects.select_related("rule").prefetch_related("actions")
    rule_id = request.GET.get("rule", "")
    if rule_id.isdigit() and len(rule_id) < 18:
        runs = runs.filter(rule_id=rule_id)
    status = request.GET.get("status", "")
    if status:
        runs = runs.filter(status=status)
    page = Paginator(runs, 30).get_page(request.GET.get("page"))
    return render(request, "workflows/run_list.html", {"page": page, "status": status})


@require_perm(Perm.WORKFLOW_MANAGE)
@require_POST
def run_retry(request, run_id: int):
    run = get_object_or_404(RuleRun, pk=run_id)
    try:
        services.rule_run_retry(actor=request.user, run=run)
        messages.success(request, "The failed actions will run again now.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("workflows:run-list")


@require_perm(Perm.WORKFLOW_MANAGE)
def event_catalogue(request):
    events = sorted(CATALOGUE.values(), key=lambda k: k.name)
    return render(request, "workflows/events.html", {"events": events})


@require_perm(Perm.WORKFLOW_MANAGE)
def template_list(request):
    templates = EmailTemplate.objects.order_by("name")
    return render(request, "workflows/template_list.html", {"templates": templates})


@require_perm(Perm.WORKFLOW_MANAGE)
def template_edit(request, key: str):
    template = EmailTemplate.objects.filter(key=key).first()
    values = {"key": key}
    values.update({f: getattr(template, f, "") for f in ("name", "subject", "body")})
    error = ""
    if request.method == "POST":
        values.update({k: request.POST.get(k, "") for k in ("name", "subject", "body")})
        try:
            services.email_template_save(actor=request.user, **values)
            messages.success(request, "Template saved.")
            return redirect("workflows:template-list")
        except DomainError as exc:
            error = exc.message
    status = 400 if error else 200
    return render(
        request, "workflows/template_form.html", {"values": values, "error": error}, status=status
    )


# --- Staff tasks ---------------------------------------------------------------------------------


@require_perm(Perm.STAFF_AREA)
def task_list(request):
    if request.method == "POST":
        assignee = User.objects.filter(
            email__iexact=request.POST.get("assignee", "").strip(), is_active=True
        ).first()
        try:
            due = parse_datetime(request.POST.get("due_at", "") or "")
        except ValueError:
            due = None
        if due is not None and timezone.is_naive(due):
            due = timezone.make_aware(due)
        try:
            services.task_create(
                actor=request.user,
                title=request.POST.get("title", ""),
                assignee=assignee,
                role=request.POST.get("role", ""),
                due_at=due,
                details=request.POST.get("details", ""),
            )
            messages.success(request, "Task created.")
            return redirect("workflows:task-list")
        except DomainError as exc:
            messages.error(request, exc.message)
    tasks = services.tasks_visible_to(request.user).select_related("assignee")
    show = request.GET.get("show", "open")
    if show == "open":
        tasks = tasks.filter(status=TaskStatus.OPEN)
    page = Paginator(tasks, 30).get_page(request.GET.get("page"))
    roles = [r for r in Role if r != Role.PATIENT]
    return render(request, "workflows/task_list.html", {"page": page, "show": show, "roles": roles})


@require_perm(Perm.STAFF_AREA)
@require_POST
def task_done(request, task_id: int):
    task = get_object_or_404(services.tasks_visible_to(request.user), pk=task_id)
    try:
        services.task_complete(actor=request.user, task=task)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") or "workflows:task-list")


@require_perm(Perm.STAFF_AREA)
def task_widget(request):
    """The dashboard's "My tasks" card body, loaded by htmx after the page."""
    tasks = list(
        services.tasks_visible_to(request.user)
        .filter(status=TaskStatus.OPEN)
        .order_by("due_at", "id")[:8]
    )
    return render(request, "workflows/widgets/_my_tasks_list.html", {"tasks": tasks})
