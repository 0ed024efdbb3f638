"""Reads of scheduling data. Appointments are patient data: every read is access-checked and
audited; lists load in a fixed number of queries."""

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from hms.accounts.models import User
from hms.core.audit import audit_record
from hms.core.errors import NotFound
from hms.core.models import Department
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.selectors import patient_of_user
from hms.scheduling.models import Appointment, AppointmentStatus, Schedule


def _appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related(
        "patient", "practitioner", "department", "service", "booked_by"
    )


def appointments_visible_to(user) -> QuerySet[Appointment]:
    """Staff who may view appointments see all; a patient sees their own; anyone else none."""
    if user_has_perm(user, Perm.APPOINTMENT_VIEW):
        return _appointments()
    if user_has_perm(user, Perm.PORTAL_USE):
        patient = patient_of_user(user)
        if patient is not None:
            return _appointments().filter(patient=patient)
    return Appointment.objects.none()


def appointment_get_for_user(*, user, appointment_id, action: str = "appointment.view"):
    """One appointment, if `user` may see it (else NotFound, so existence does not leak)."""
    try:
        appointment = appointments_visible_to(user).get(pk=uuid.UUID(str(appointment_id)))
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such appointment.") from None
    audit_record(action=action, actor=user, obj=appointment, patient=appointment.patient_id)
    return appointment


def appointments_search(
    *,
    user,
    practitioner_id=None,
    department_id=None,
    patient_id=None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
) -> QuerySet[Appointment]:
    """Appointments the user may see, filtered; the list read is audited once."""
    qs = appointments_visible_to(user)
    if practitioner_id:
        qs = qs.filter(practitioner_id=practitioner_id)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    if start:
        qs = qs.filter(end__gt=start)
    if end:
        qs = qs.filter(start__lt=end)
    if status:
        qs = qs.filter(status=status)
    audit_record(
        action="appointment.list",
        actor=user,
        patient=patient_id,
        details={
            "practitioner": practitioner_id,
            "department": department_id,
            "start": start,
            "end": end,
        },
    )
    return qs.order_by("start")


def practitioners_search(
    *, department_id=None, specialty: str = "", q: str = "", online_only: bool = False
) -> QuerySet[User]:
    """Doctors who take appointments, found by department, specialty or name."""
    qs = User.objects.filter(
        role=Role.DOCTOR, is_active=True, schedule__is_active=True
    ).select_related("staff_profile", "schedule", "schedule__department")
    if online_only:
        qs = qs.filter(schedule__bookable_online=True)
    if department_id:
        qs = qs.filter(schedule__department_id=department_id)
    if specialty:
        qs = qs.filter(staff_profile__specialty__icontains=specialty.strip())
    for word in q.split():
        qs = qs.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    return qs.order_by("family_name", "given_name", "pk")


def departments_with_schedules() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True, schedules__is_active=True).distinct()


def schedule_of(practitioner_id) -> Schedule:
    schedule = (
        Schedule.objects.select_related("practitioner", "department")
        .filter(practitioner_id=practitioner_id)
        .first()
    )
    if schedule is None:
        raise NotFound("This practitioner has no schedule.")
    return schedule


def department_queue(*, user, department_id) -> list[Appointment]:
    """Today's patients of a department who have arrived: waiting (in check-in order), then those
    in consultation. One query plus one audit row."""
    today = timezone.localdate()
    qs = (
        _appointments()
        .filter(
            department_id=department_id,
            start__date=today,
            status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION],
        )
        .order_by("status", "checked_in_at", "start")
    )
    audit_record(action="appointment.queue_view", actor=user, details={"department": department_id})
    return list(qs)
