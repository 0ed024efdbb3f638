"""Reads of scheduling data. Appointments are patient data: every read is access-checked and
audited; lists load in a fixed number of queries."""

import hmac
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import NotFound
from hms.core.patient_cache import cached_for_patient
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.models import Patient
from hms.patients.selectors import patient_of_user
from hms.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ReminderOptOut,
    Schedule,
    Service,
    WaitlistEntry,
    WaitlistStatus,
)
from hms.scheduling.slots import free_slots, local_zone


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


@dataclass
class CalendarView:
    """The staff calendar: one column per practitioner (a department's day) or per day, each
    holding free slots and appointments in time order."""

    view: str
    day: date
    prev_day: date
    next_day: date
    columns: list[dict]
    practitioner_id: int | None
    department_id: int | None
    show_who: bool


def local_midnight(day: date) -> datetime:
    """The start of `day` in the hospital's zone."""
    return datetime.combine(day, datetime.min.time(), tzinfo=local_zone())


def calendar_for(
    *, user, day: date, view: str = "day", practitioner_id=None, department_id=None
) -> CalendarView:
    """Free slots and appointments of one practitioner (or a department's) for a day or the
    week holding `day`. The appointments shown are audited, one row per patient."""
    if view == "week":
        day = day - timedelta(days=day.weekday())
    days = [day + timedelta(days=n) for n in range(7 if view == "week" else 1)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    schedules = Schedule.objects.select_related("practitioner", "department").filter(is_active=True)
    if practitioner_id:
        schedules = schedules.filter(practitioner_id=practitioner_id)
    elif department_id:
        schedules = schedules.filter(department_id=department_id)
    else:
        schedules = schedules.none()
    schedules = list(schedules)
    ids = [s.practitioner_id for s in schedules]
    names = {s.practitioner_id: s.practitioner.full_name for s in schedules}
    slots = free_slots(start=start, end=end, practitioner_ids=ids) if ids else []
    appointments = (
        list(appointments_search(user=user, start=start, end=end).filter(practitioner_id__in=ids))
        if ids
        else []
    )
    appointments_audit_shown(user=user, appointments=appointments)
    by_practitioner_day = len(days) == 1 and not practitioner_id
    if by_practitioner_day:
        columns = {
            s.practitioner_id: {"title": s.practitioner.full_name, "items": []} for s in schedules
        }
    else:
        columns = {d: {"title": d, "items": []} for d in days}

    def place(practitioner, moment, item):
        key = (
            practitioner if by_practitioner_day else timezone.localtime(moment, local_zone()).date()
        )
        if key in columns:
            columns[key]["items"].append({**item, "who": names.get(practitioner)})

    for slot in slots:
        place(
            slot.practitioner_id, slot.start, {"start": slot.start, "end": slot.end, "slot": slot}
        )
    for a in appointments:
        place(a.practitioner_id, a.start, {"start": a.start, "end": a.end, "appointment": a})
    for column in columns.values():
        column["items"].sort(key=lambda item: (item["start"], "slot" in item))
    step = timedelta(days=7 if view == "week" else 1)
    return CalendarView(
        view=view,
        day=day,
        prev_day=day - step,
        next_day=day + step,
        columns=list(columns.values()),
        practitioner_id=practitioner_id,
        department_id=department_id,
        show_who=bool(department_id and not practitioner_id and view == "week"),
    )


def schedule_get(*, schedule_id) -> Schedule | None:
    return (
        Schedule.objects.select_related("practitioner", "department").filter(pk=schedule_id).first()
    )


def schedule_page_data(*, user, schedule: Schedule) -> dict:
    """What the schedule page shows: sessions, coming exceptions, the services, and the booked
    appointments a change left outside working time (audited, one row per patient)."""
    require(user, Perm.SCHEDULE_MANAGE)
    needs_rebooking = list(
        Appointment.objects.filter(
            practitioner_id=schedule.practitioner_id,
            needs_rebooking=True,
            status=AppointmentStatus.BOOKED,
            start__gte=timezone.now(),
        ).select_related("patient")
    )
    appointments_audit_shown(user=user, appointments=needs_rebooking)
    return {
        "schedule": schedule,
        "hours": schedule.hours.all(),
        "exceptions": schedule.exceptions.filter(end__gte=timezone.now()),
        "needs_rebooking": needs_rebooking,
        "services": Service.objects.filter(department_id=schedule.department_id),
    }


@dataclass
class PortalAppointments:
    """A patient's own appointments page: what is coming, the last 20 past, open offers."""

    patient: Patient | None
    upcoming: list[Appointment] = field(default_factory=list)
    past: list[Appointment] = field(default_factory=list)
    offers: list[WaitlistEntry] = field(default_factory=list)
    opted_out: bool = False
    # The patient's data version this was read at (hms/core/patient_cache.py), None if unknown.
    version: str | None = None


PORTAL_LIST_COLUMNS = (
    "start", "end", "status", "location", "patient_id", "practitioner_id", "department_id",
    "practitioner__given_name", "practitioner__family_name", "department__name",
)  # fmt: skip
PORTAL_OFFER_COLUMNS = (
    "patient_id", "offered_start", "offer_expires_at", "offered_practitioner_id",
    "offered_practitioner__given_name", "offered_practitioner__family_name",
)  # fmt: skip


def portal_appointments_for(*, user) -> PortalAppointments:
    """The signed-in patient's own appointments (the list read is audited) and the earlier
    slots offered to them; empty when the account has no patient record yet. Read from the
    cache while nothing of the patient's has changed (hms/core/patient_cache.py)."""
    require(user, Perm.PORTAL_USE)
    records, version = cached_for_patient(
        key=f"hms:portal-appointments:{user.pk}", read=lambda: _portal_records(user)
    )
    if records is None:
        return PortalAppointments(patient=None)
    patient, appointments, offers, opted_out = records
    audit_record(
        action="appointment.list",
        actor=user,
        patient=patient.pk,
        details={"practitioner": None, "department": None, "start": None, "end": None},
    )
    now = timezone.now()
    coming = [a.end >= now and a.is_active for a in appointments]
    return PortalAppointments(
        patient=patient,
        upcoming=[a for a, c in zip(appointments, coming, strict=True) if c],
        past=[a for a, c in zip(appointments, coming, strict=True) if not c][::-1][:20],
        offers=[offer for offer in offers if offer.offer_expires_at > now],
        opted_out=opted_out,
        version=version,
    )


def _portal_records(user) -> tuple:
    patient = patient_of_user(user)
    if patient is None:
        return None, None
    # The page shows the practitioner and department: not the other joined rows (the patient's
    # own 40 columns, the service, who booked) nor the practitioner's account columns, which
    # would cost more than the rest of the page.
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "department")
        .only(*PORTAL_LIST_COLUMNS)
        .order_by("start")
    )
    offers = list(
        WaitlistEntry.objects.filter(
            patient=patient, status=WaitlistStatus.OFFERED, offer_expires_at__gt=timezone.now()
        )
        .select_related("offered_practitioner")
        .only(*PORTAL_OFFER_COLUMNS)
    )
    opted_out = ReminderOptOut.objects.filter(patient=patient).exists()
    return patient.pk, (patient, appointments, offers, opted_out)


def waitlist_open(*, user, limit: int = 200) -> list[WaitlistEntry]:
    """Patients waiting for an earlier slot or holding an offer, oldest first; one audit row
    per patient listed."""
    require(user, Perm.APPOINTMENT_BOOK)
    entries = list(
        WaitlistEntry.objects.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED])
        .select_related("patient", "practitioner", "department")
        .order_by("created_at")[:limit]
    )
    audit_record_patients(
        action="waitlist.view", actor=user, patients=[e.patient_id for e in entries]
    )
    return entries
