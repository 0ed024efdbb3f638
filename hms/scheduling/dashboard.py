"""Dashboard widgets of scheduling: the day's list for staff, the next visit for patients."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from hms.core.audit import audit_record
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.permissions import Perm
from hms.scheduling.models import RELEASED_STATUSES, Appointment, AppointmentStatus


def _today() -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(timezone.localdate(), time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _day_for(*, user) -> dict:
    """Today's appointments by status: the practitioner's own, or the whole hospital's. One
    query counts both sides, so the widget costs the same whoever looks."""
    start, end = _today()
    upcoming = Q(status=AppointmentStatus.BOOKED, start__gte=timezone.now())
    figures = {}
    for scope, where in (("own", Q(practitioner=user)), ("all", None)):
        for status in AppointmentStatus:
            by_status = Q(status=status) if where is None else where & Q(status=status)
            figures[f"{scope}_{status}"] = Count("pk", filter=by_status)
        figures[f"{scope}_next"] = Min(
            "start", filter=upcoming if where is None else where & upcoming
        )
    day = Appointment.objects.filter(start__gte=start, start__lt=end).aggregate(**figures)
    mine = any(day[f"own_{status}"] for status in AppointmentStatus)
    scope = "own" if mine else "all"
    counts = {status: day[f"{scope}_{status}"] for status in AppointmentStatus}
    return {
        "mine": mine,
        "rows": [(status.label, counts[status]) for status in AppointmentStatus],
        "total": sum(n for status, n in counts.items() if status not in RELEASED_STATUSES),
        "next_start": day[f"{scope}_next"],
    }


def _next_visit(*, user) -> dict:
    """The portal user's next appointment, read with their patient record in one query."""
    appointment = (
        Appointment.objects.filter(
            patient__user=user, patient__merged_into__isnull=True, start__gte=timezone.now()
        )
        .exclude(status__in=RELEASED_STATUSES)
        .select_related("practitioner", "department")
        # What the card shows: fewer columns make a cheaper query on every portal sign-in.
        .only("start", "patient_id", "practitioner__given_name", "practitioner__family_name",
              "department__name")
        .order_by("start")
        .first()
    )  # fmt: skip
    if appointment is not None:
        audit_record(
            action="appointment.view", actor=user, obj=appointment, patient=appointment.patient_id
        )
    return {"appointment": appointment}


register_widget(
    DashboardWidget(
        key="appointments-today",
        title="Today's appointments",
        order=10,
        perm=Perm.APPOINTMENT_VIEW,
        template="scheduling/widgets/today.html",
        load=_day_for,
    )
)
register_widget(
    DashboardWidget(
        key="next-visit",
        title="Your next appointment",
        order=10,
        perm=Perm.PORTAL_USE,
        template="scheduling/widgets/next_visit.html",
        load=_next_visit,
    )
)
