from django.urls import path
from rest_framework.routers import SimpleRouter

from hms.workflows import api, api_notifications

router = SimpleRouter()
router.register("workflows/rules", api.RuleViewSet, basename="workflow-rule")
router.register("notifications", api_notifications.NotificationViewSet, basename="notification")

urlpatterns = [
    path("workflows/events/", api.EventCatalogueView.as_view(), name="workflow-event-list"),
    path("workflows/runs/", api.RunListView.as_view(), name="workflow-run-list"),
    path("tasks/", api.TaskListView.as_view(), name="task-list"),
    *router.urls,
]
