"""The notification centre: the navbar's bell (its count loaded by htmx after the page, so no
page pays a query for it), the list, mark read, and the user's preferences."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hms.core.access import signed_in
from hms.core.models import NotificationPreference
from hms.core.notifications import (
    notification_mark_read,
    notification_preferences_set,
    notifications_of,
    unread_count,
)


@signed_in
def bell(request):
    return render(request, "core/_bell.html", {"unread": unread_count(request.user)})


@signed_in
def notification_list(request):
    page = Paginator(notifications_of(request.user), 30).get_page(request.GET.get("page"))
    preference = NotificationPreference.objects.filter(user=request.user).first()
    return render(
        request,
        "core/notifications.html",
        {"page": page, "preference": preference or NotificationPreference(in_app=True)},
    )


@signed_in
@require_POST
def notification_read(request, notification_id: int):
    if notification_id == 0:  # "mark all read"
        for notice in notifications_of(request.user, unread_only=True).only("pk"):
            notification_mark_read(user=request.user, notification_id=notice.pk)
    else:
        notification_mark_read(user=request.user, notification_id=notification_id)
    return redirect("core:notification-list")


@signed_in
@require_POST
def notification_preferences(request):
    notification_preferences_set(
        user=request.user,
        in_app=request.POST.get("in_app") == "on",
        email=request.POST.get("email") == "on",
    )
    return redirect("core:notification-list")
