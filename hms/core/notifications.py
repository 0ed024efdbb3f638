"""In-app notifications: any app tells a user something (a reminder, a waitlist offer, a
critical lab result) through `notify`; the user sees them on their dashboard or portal page."""

from django.db.models import QuerySet
from django.utils import timezone

from hms.core.mail import email_after_commit
from hms.core.models import Notification
from hms.core.versioned_cache import cached_while_unchanged, versions_changed

# The newest notices a page shows are kept this long at most (always dropped when one arrives
# or is read).
RECENT_SECONDS = 600


def notify(*, user, title: str, body: str = "", url: str = "", email: str = "") -> Notification:
    """An in-app notification, at once (in the caller's transaction), and an email after commit
    when an address is given."""
    notice = Notification.objects.create(user=user, title=title[:200], body=body, url=url[:300])
    versions_changed([_version_key(user.pk)])
    if email:
        email_after_commit(subject=title, body=body, to=email)
    return notice


def notification_mark_read(*, user, notification_id: int) -> None:
    """A user marks one of their own notifications read."""
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    versions_changed([_version_key(user.pk)])


def notifications_of(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    notices = Notification.objects.filter(user=user)
    return notices.filter(read_at__isnull=True) if unread_only else notices


def _version_key(user_id) -> str:
    return f"hms:notices-version:{user_id}"


def recent_notices(user, *, limit: int, unread_only: bool = False) -> list[Notification]:
    """The user's `limit` newest notifications (or unread ones), as the dashboard and the portal
    show them: from the cache until one arrives or is read."""
    return cached_while_unchanged(
        key=f"hms:notices:{user.pk}:{limit}:{int(unread_only)}",
        version_key=_version_key(user.pk),
        read=lambda: list(notifications_of(user, unread_only=unread_only)[:limit]),
        seconds=RECENT_SECONDS,
    )


def notification_preferences_set(*, user, in_app: bool, email: bool) -> None:
    """A user chooses how workflows reach them (their own preference only)."""
    from hms.core.models import NotificationPreference

    NotificationPreference.objects.update_or_create(
        user=user, defaults={"in_app": bool(in_app), "email": bool(email)}
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
