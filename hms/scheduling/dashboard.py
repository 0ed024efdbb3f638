"""Dashboard widgets of scheduling: the day's list for staff, the next visit for patients."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from hms.core.audit import audit_record
from hms.core.dashboard import DashboardWidget, register_widget
from hms.core.models import Department
from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.patient_cache import cached_for_patient
from hms.core.permissions import Perm
from hms.patients.selectors import patient_of_user
from hms.scheduling.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentStatus,
    Schedule,
    WaitlistEntry,
    WaitlistStatus,
)

ARRIVED = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION)


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
    """The portal user's next appointment, read with their patient record in one query, or
    from the cache while nothing of the patient's has changed and it has not started; every
    showing is audited."""
    appointment, _version = cached_for_patient(
        key=f"hms:next-visit:{user.pk}",
        read=lambda: _next_visit_read(user),
        fresh=lambda found: found is None or found.start >= timezone.now(),
    )
    if appointment is not None:
        audit_record(
            action="appointment.view", actor=user, obj=appointment, patient=appointment.patient_id
        )
    return {"appointment": appointment}


def _next_visit_read(user) -> tuple:
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
    return (appointment.patient_id if appointment else None), appointment


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


def _queues(*, user) -> dict:
    """Who has arrived today, per department: the user's own department (a doctor's) first."""
    start, end = _today()
    arrived = dict(
        Appointment.objects.filter(start__gte=start, start__lt=end, status__in=ARRIVED)
        .values_list("department")
        .annotate(n=Count("pk"))
    )
    own = Schedule.objects.filter(practitioner=user).values_list("department_id", flat=True)
    own_id = own.first()
    departments = sorted(
        Department.objects.filter(is_active=True),
        key=lambda d: (d.pk != own_id, -arrived.get(d.pk, 0), d.name),
    )
    return {
        "queues": [(d, arrived.get(d.pk, 0), d.pk == own_id) for d in departments],
        "total": sum(arrived.values()),
    }


register_widget(
    DashboardWidget(
        key="queues",
        title="Queues",
        order=15,
        perm=Perm.APPOINTMENT_VIEW,
        template="scheduling/widgets/queues.html",
        load=_queues,
    )
)


def _count_today(*, user) -> str:
    start, end = _today()
    n = (
        Appointment.objects.filter(start__gte=start, start__lt=end)
        .exclude(status__in=RELEASED_STATUSES)
        .count()
    )
    return f"{n} today"


def _count_waiting(*, user) -> str:
    start, end = _today()
    n = Appointment.objects.filter(start__gte=start, start__lt=end, status__in=ARRIVED).count()
    return f"{n} arrived"


def _count_waitlist(*, user) -> str:
    statuses = [WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
    return f"{WaitlistEntry.objects.filter(status__in=statuses).count()} waiting"


def _count_schedules(*, user) -> str:
    return f"{Schedule.objects.filter(is_active=True).count()} active"


def _count_own_upcoming(*, user) -> str:
    patient = patient_of_user(user)
    if patient is None:
        return ""
    upcoming = Appointment.objects.filter(patient=patient, start__gte=timezone.now()).exclude(
        status__in=RELEASED_STATUSES
    )
    return f"{upcoming.count()} upcoming"


for _url_name, _count in (
    ("scheduling:calendar", _count_today),
    ("scheduling:queue-home", _count_waiting),
    ("scheduling:waitlist", _count_waitlist),
    ("scheduling:schedule-list", _count_schedules),
    ("scheduling:portal-appointments", _count_own_upcoming),
):
    register_count(_url_name, _count)

for _item in (
    MenuItem("Appointments", "scheduling:calendar", Perm.APPOINTMENT_VIEW,
             "The day or week of a doctor or department; book free slots.", order=30,
             section=Section.APPOINTMENTS),
    MenuItem("Queue", "scheduling:queue-home", Perm.APPOINTMENT_VIEW,
             "Patients who have arrived today, in the order they came.", order=40,
             section=Section.APPOINTMENTS),
    MenuItem("Waiting list", "scheduling:waitlist", Perm.APPOINTMENT_BOOK,
             "Patients waiting for an earlier slot; add one.", order=50,
             section=Section.APPOINTMENTS),
    MenuItem("Schedules", "scheduling:schedule-list", Perm.SCHEDULE_MANAGE,
             "Doctors' working hours, leave and extra sessions.", order=60,
             section=Section.APPOINTMENTS),
    MenuItem("My appointments", "scheduling:portal-appointments", Perm.PORTAL_USE,
             "Book, move or cancel a visit.", order=70),
):  # fmt: skip
    register_menu_item(_item)
