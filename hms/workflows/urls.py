from django.urls import path

from hms.workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:rule_id>/", views.rule_detail, name="rule-detail"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("rules/<int:rule_id>/dry-run/", views.rule_dry_run, name="rule-dry-run"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run-retry"),
    path("events/", views.event_catalogue, name="event-catalogue"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<slug:key>/", views.template_edit, name="template-edit"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/widget/", views.task_widget, name="task-widget"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task-done"),
]
