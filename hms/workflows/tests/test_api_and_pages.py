"""The API of issue 12 and the pages around it: rules, dry runs, runs, the catalogue,
notifications (the caller's own), tasks (mine and my role's), the bell and "My tasks"."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.models import Notification
from hms.core.permissions import Role
from hms.workflows import services
from hms.workflows.models import Rule, StaffTask

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Cardiology to nurses",
    "event": "appointment.booked",
    "match": "all",
    "conditions": [{"field": "department_name", "op": "eq", "value": "Cardiology"}],
    "actions": [{"type": "notify_role", "role": "nurse", "title": "New booking"}],
    "enabled": True,
}


def test_an_admin_creates_lists_and_dry_runs_a_rule_through_the_api(client_for):
    api = client_for(Role.ADMIN)
    created = api.post("/api/v1/workflows/rules/", RULE, content_type="application/json")
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["version"] == 1
    listed = api.get("/api/v1/workflows/rules/").json()
    assert [r["name"] for r in listed] == ["Cardiology to nurses"]
    dry = api.post(
        f"/api/v1/workflows/rules/{rule_id}/dry-run/",
        {"payload": {"department_name": "Cardiology"}},
        content_type="application/json",
    ).json()
    assert dry["matched"] is True and dry["actions"][0]["type"] == "notify_role"
    runs = api.get(f"/api/v1/workflows/runs/?rule={rule_id}").json()
    assert runs["results"] == []


def test_a_bad_rule_is_a_400_with_a_code_and_nothing_is_written(client_for):
    api = client_for(Role.ADMIN)
    bad = {**RULE, "conditions": [{"field": "shoe_size", "op": "eq", "value": "9"}]}
    answer = api.post("/api/v1/workflows/rules/", bad, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid"
    assert not Rule.objects.exists()


def test_only_administrators_see_rules_and_the_catalogue(client_for):
    nurse = client_for(Role.NURSE)
    assert nurse.get("/api/v1/workflows/rules/").status_code == 403
    assert nurse.get("/api/v1/workflows/events/").status_code == 403


def test_the_catalogue_lists_each_event_with_its_fields(client_for):
    events = {e["name"]: e for e in client_for(Role.ADMIN).get("/api/v1/workflows/events/").json()}
    for name in (
        "appointment.booked", "appointment.cancelled", "appointment.checked_in",
        "appointment.completed", "appointment.no_show", "encounter.closed",
        "lab_result.recorded", "lab_result.critical", "prescription.created",
        "patient.registered", "patient.merged",
    ):  # fmt: skip
        assert name in events
    assert events["appointment.booked"]["fields"]["start"] == "datetime"


def test_webhook_secrets_are_never_sent_back(client_for):
    api = client_for(Role.ADMIN)
    hook = {**RULE, "actions": [{"type": "webhook", "url": "https://hooks.example.org/x",
                                 "secret": "s3cret"}]}  # fmt: skip
    answer = api.post("/api/v1/workflows/rules/", hook, content_type="application/json").json()
    assert answer["actions"][0]["secret"] == "***"


def test_notifications_api_shows_only_the_callers_own_and_marks_read(client_for, make_user):
    api = client_for(Role.NURSE)
    mine = Notification.objects.create(user=api.user, title="Mine", body="b")
    theirs = Notification.objects.create(user=make_user(Role.NURSE), title="Theirs")
    listed = api.get("/api/v1/notifications/").json()["results"]
    assert [(n["title"], n["read"]) for n in listed] == [("Mine", False)]
    assert set(listed[0]) >= {"title", "body", "read", "created_at"}
    assert api.post(f"/api/v1/notifications/{mine.pk}/read/").json()["read"] is True
    assert api.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_tasks_api_creates_for_a_role_and_each_sees_their_own(client_for, make_user):
    api = client_for(Role.DOCTOR)
    created = api.post(
        "/api/v1/tasks/",
        {"title": "Call the lab", "role": "nurse", "due_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert api.get("/api/v1/tasks/").json()["results"] == []  # a nurse's task, not a doctor's
    nurse = client_for(Role.NURSE, user=make_user(Role.NURSE))
    assert [t["title"] for t in nurse.get("/api/v1/tasks/").json()["results"]] == ["Call the lab"]


def test_a_task_needs_an_assignee(client_for):
    answer = client_for(Role.NURSE).post(
        "/api/v1/tasks/", {"title": "Orphan"}, content_type="application/json"
    )
    assert answer.status_code == 400 and not StaffTask.objects.exists()


def test_the_bell_counts_unread_and_the_dashboard_does_not_query_it(client_for):
    nurse = client_for(Role.NURSE)
    Notification.objects.create(user=nurse.user, title="Hello")
    bell = nurse.get(reverse("core:notification-bell")).content.decode()
    assert 'id="notification-count">1' in bell
    page = nurse.get(reverse("core:dashboard")).content.decode()
    assert 'hx-get="/notifications/bell/"' in page and "every 30s" in page
    assert 'hx-get="/workflows/tasks/widget/"' in page  # "My tasks", loaded after the page


def test_my_tasks_widget_highlights_overdue_ones(client_for):
    nurse = client_for(Role.NURSE)
    services.task_create(
        actor=nurse.user, title="Late one", role=Role.NURSE,
        due_at=timezone.now() - timezone.timedelta(hours=1),
    )  # fmt: skip
    widget = nurse.get(reverse("workflows:task-widget")).content.decode()
    assert "Late one" in widget and "Overdue" in widget


def test_the_rule_builder_saves_a_rule_from_its_rows(client_for):
    admin = client_for(Role.ADMIN)
    answer = admin.post(
        reverse("workflows:rule-create"),
        {
            "save": "1", "name": "Built in the page", "event": "appointment.booked",
            "match": "all", "enabled": "on",
            "cond_field": ["department_name", ""], "cond_op": ["eq", "eq"],
            "cond_value": ["Cardiology", ""],
            "act_type": ["notify_role", ""], "act_target": ["role:nurse", ""],
            "act_title": ["Booked", ""],
        },
    )  # fmt: skip
    assert answer.status_code == 302
    rule = Rule.objects.get()
    assert rule.actions == [{"type": "notify_role", "role": "nurse", "title": "Booked"}]
    for name in ("rule-list", "run-list", "event-catalogue", "template-list"):
        assert admin.get(reverse(f"workflows:{name}")).status_code == 200
    assert admin.get(reverse("workflows:rule-detail", args=[rule.pk])).status_code == 200


def test_the_rule_page_never_shows_a_webhook_secret_and_keeps_it_when_left_blank(client_for):
    admin = client_for(Role.ADMIN)
    hook = {"type": "webhook", "url": "https://hooks.example.org/x", "secret": "s3cret"}
    rule = services.rule_create(
        actor=admin.user, name="Hook", event="appointment.booked", actions=[hook]
    )
    page = admin.get(reverse("workflows:rule-detail", args=[rule.pk])).content.decode()
    assert "s3cret" not in page
    admin.post(
        reverse("workflows:rule-detail", args=[rule.pk]),
        {"name": "Hook", "event": "appointment.booked", "match": "all", "enabled": "on",
         "act_type": ["webhook"], "act_url": [hook["url"]], "act_secret": [""]},
    )  # fmt: skip
    rule.refresh_from_db()
    assert rule.version == 2 and rule.actions[0]["secret"] == "s3cret"
