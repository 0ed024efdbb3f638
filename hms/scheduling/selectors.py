"""Reads of scheduling data. Appointments are patient data: every read is access-checked and
audited; lists load in a fixed number of queries."""

import hmac
import uuid
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from hms.accounts.models import User
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import NotFound
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
    if not patient_id and not user_has_perm(user, Perm.APPOINTMENT_VIEW):
        # A patient's list is their own record: the audit row names them.
        own = patient_of_user(user)
        patient_id = own.pk if own is not None else None
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


def appointments_audit_shown(*, user, appointments, action: str = "appointment.list_view"):
    """A list showing several patients' appointments leaves one audit row per patient shown
    (the list's own row cannot name them all), written in one batch. Call it with the rows
    actually rendered."""
    audit_record_patients(action=action, actor=user, patients=[a.patient_id for a in appointments])


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


FEED_TOKEN_MIN_LENGTH = 32
FEED_TOKEN_LOOKUP_PREFIX = 8


def schedule_by_calendar_token(token: str) -> Schedule | None:
    """The active schedule whose secret feed address this is, or None.

    The database is asked only for the token's first characters (an index lookup whose timing
    can reveal at most that prefix); the whole token is then compared in constant time, so
    response times tell an attacker nothing about the secret part."""
    token = token or ""
    if len(token) < FEED_TOKEN_MIN_LENGTH:
        return None
    candidates = Schedule.objects.select_related("practitioner").filter(
        calendar_token__startswith=token[:FEED_TOKEN_LOOKUP_PREFIX], is_active=True
    )[:10]
    found = None
    for schedule in candidates:
        if hmac.compare_digest(schedule.calendar_token.encode(), token.encode()):
            found = schedule
    return found


def calendar_feed_appointments(*, schedule: Schedule, limit: int = 2000) -> list[Appointment]:
    """The practitioner's appointments from 30 days ago on, for their calendar feed. The feed
    names patients by MRN, so each fetch is audited (one row per fetch, naming the schedule
    and how many appointments went out: a calendar client polls every few minutes). Whoever
    holds the address fetches it, signed in or not: the row names the feed token as the way in,
    never the practitioner as the actor."""
    since = timezone.now() - timedelta(days=30)
    appointments = list(
        Appointment.objects.filter(practitioner_id=schedule.practitioner_id, start__gte=since)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .select_related("patient", "department", "practitioner")
        .order_by("start")[:limit]
    )
    audit_record(
        action="appointment.calendar_feed_view",
        obj=schedule,
        details={
            "via": "calendar feed token",
            "practitioner": schedule.practitioner_id,
            "appointments": len(appointments),
        },
    )
    return appointments


def department_queue(*, user, department_id) -> list[Appointment]:
    """Today's patients of a department who have arrived: checked in and waiting (in check-in
    order), then those in consultation. "Today" is the appointment's day or the check-in's (a
    late-evening check-in for just after midnight). One query plus one audit row."""
    today = timezone.localdate()
    qs = (
        _appointments()
        .filter(Q(start__date=today) | Q(checked_in_at__date=today))
        .filter(
            department_id=department_id,
            status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION],
        )
        .order_by("status", "checked_in_at", "start")
    )
    audit_record(action="appointment.queue_view", actor=user, details={"department": department_id})
    entries = list(qs)
    appointments_audit_shown(user=user, appointments=entries, action="appointment.queue_view")
    return entries
