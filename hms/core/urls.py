from django.urls import path

from hms.core import notification_views, views

app_name = "core"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_list, name="audit-list"),
    path("notifications/", notification_views.notification_list, name="notification-list"),
    path("notifications/bell/", notification_views.bell, name="notification-bell"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_views.notification_read,
        name="notification-read",
    ),
    path(
        "notifications/preferences/",
        notification_views.notification_preferences,
        name="notification-preferences",
    ),
]
