"""The administrator's dashboard widget: sign-in trouble and who is on staff."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from hms.accounts.models import User
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.models import AuditEvent
from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.permissions import STAFF_ROLES, Perm


def _security(*, user) -> dict:
    since = timezone.now() - timedelta(hours=24)
    failures = AuditEvent.objects.filter(action="auth.login_failed", occurred_at__gte=since)
    staff = dict(
        User.objects.filter(role__in=list(STAFF_ROLES), is_active=True)
        .values_list("role")
        .annotate(n=Count("pk"))
    )
    return {
        "failed_logins": failures.count(),
        "locked_out": AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).count(),
        "staff_total": sum(staff.values()),
    }


register_widget(
    DashboardWidget(
        key="security",
        title="Sign-ins and staff",
        order=50,
        perm=Perm.STAFF_MANAGE,
        template="accounts/widgets/security.html",
        load=_security,
    )
)


def _count_staff(*, user) -> str:
    n = User.objects.filter(role__in=list(STAFF_ROLES), is_active=True).count()
    return f"{n} active"


register_count("accounts:staff-list", _count_staff)
register_menu_item(
    MenuItem("Staff", "accounts:staff-list", Perm.STAFF_MANAGE,
             "Staff accounts, roles and invitations.", order=130, section=Section.ADMINISTRATION)
)  # fmt: skip
