"""Dashboard widgets of scheduling: the day's list for staff, the next visit for patients."""

from datetime import datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from hms.core.audit import audit_record
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.permissions import Perm
from hms.patients.selectors import patient_of_user
from hms.scheduling.models import RELEASED_STATUSES, Appointment, AppointmentStatus


def _today() -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(timezone.localdate(), time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _day_for(*, user) -> dict:
    """Today's appointments by status: the practitioner's own, or the whole hospital's."""
    start, end = _today()
    today = Appointment.objects.filter(start__gte=start, start__lt=end)
    own = today.filter(practitioner=user)
    mine = own.exists()
    appointments = own if mine else today
    counts = dict(appointments.values_list("status").annotate(n=Count("pk")))
    upcoming = (
        appointments.filter(status=AppointmentStatus.BOOKED, start__gte=timezone.now())
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )
    return {
        "mine": mine,
        "rows": [(s.label, counts.get(s.value, 0)) for s in AppointmentStatus],
        "total": sum(n for status, n in counts.items() if status not in RELEASED_STATUSES),
        "next_start": upcoming,
    }


def _next_visit(*, user) -> dict:
    patient = patient_of_user(user)
    if patient is None:
        return {"appointment": None}
    appointment = (
        Appointment.objects.filter(patient=patient, start__gte=timezone.now())
        .exclude(status__in=RELEASED_STATUSES)
        .select_related("practitioner", "department")
        .order_by("start")
        .first()
    )
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
