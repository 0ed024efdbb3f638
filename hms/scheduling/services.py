"""Every write of the scheduling app: booking, the visit's states, schedules, waitlist, reminders.

Double booking is refused by the database (see migration 0002); the services only turn the
database's refusal into a clear Conflict. State changes are conditional updates
(`UPDATE ... WHERE status = <expected>`), so two clerks pressing a button at once cannot both win.

Lock order, everywhere a transaction takes several locks: the patient row first, then the
patient's appointments (and, in clinical, encounters). A merge takes the same order, so a merge
and a booking, check-in or cancellation of the same patient wait for each other, never deadlock.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotFound
from hms.core.events import emit
from hms.core.mail import email_after_commit
from hms.core.models import Department
from hms.core.notifications import notify
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.locks import lock_patient
from hms.patients.models import Patient, PatientMerge
from hms.patients.selectors import patient_get_for_user, patient_of_user
from hms.scheduling import slots as slot_engine
from hms.scheduling.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingChannel,
    BookingKind,
    Reminder,
    ReminderKind,
    ReminderOptOut,
    Schedule,
    ScheduleException,
    Service,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
    new_calendar_token,
)

S = AppointmentStatus


def _conflict_from(exc: IntegrityError) -> Conflict:
    text = str(exc).lower()
    if "patient" in text:
        return Conflict("The patient already has an appointment at that time.", code="patient_busy")
    return Conflict("That time has just been taken. Please choose another slot.", code="slot_taken")


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment, slot_engine.local_zone()).strftime("%a %d %b %Y, %H:%M")


def _is_patient_actor(actor) -> bool:
    return getattr(actor, "role", None) == Role.PATIENT


def _check_may_act_for(actor: User, record: Patient | Appointment | WaitlistEntry) -> None:
    """A patient acts only for their own record (`record`: the patient, or something of theirs);
    staff need the booking permission, checked before the record is looked at."""
    if not _is_patient_actor(actor):
        require(actor, Perm.APPOINTMENT_BOOK, "Your role may not book appointments.")
        return
    patient = record if isinstance(record, Patient) else record.patient
    if not user_has_perm(actor, Perm.PORTAL_USE) or patient.user_id != actor.pk:
        raise NotFound("No such patient.")


# --- Services and schedules ------------------------------------------------------------------


def service_create(
    *, actor: User, department: Department, name: str, duration_minutes: int, price_code: str = ""
) -> Service:
    """A department offers a new bookable service."""
    require(actor, Perm.SCHEDULE_MANAGE)
    with transaction.atomic():
        service = Service.objects.create(
            department=department,
            name=name,
            duration_minutes=duration_minutes,
            price_code=price_code,
        )
        audit_record(action="scheduling.service_create", actor=actor, obj=service)
    return service


def schedule_ensure(*, actor: User, practitioner, department: Department | None = None) -> Schedule:
    """The practitioner's schedule, created on first use in their staff department."""
    require(actor, Perm.SCHEDULE_MANAGE)
    if practitioner.role != Role.DOCTOR:
        raise DomainError("Only doctors have bookable schedules.", code="not_a_practitioner")
    existing = Schedule.objects.filter(practitioner=practitioner).first()
    if existing is not None:
        return existing
    profile = getattr(practitioner, "staff_profile", None)
    department = department or (profile.department if profile else None)
    if department is None:
        raise DomainError("The practitioner has no department.", code="no_department")
    with transaction.atomic():
        schedule, created = Schedule.objects.get_or_create(
            practitioner=practitioner, defaults={"department": department}
        )
        if created:
            audit_record(action="scheduling.schedule_create", actor=actor, obj=schedule)
    return schedule


def schedule_rotate_calendar_token(*, actor: User, schedule: Schedule) -> Schedule:
    """A new secret calendar address; the old one stops working at once."""
    require(actor, Perm.SCHEDULE_MANAGE)
    with transaction.atomic():
        schedule.calendar_token = new_calendar_token()
        schedule.save(update_fields=["calendar_token", "updated_at"])
        audit_record(action="scheduling.calendar_token_rotate", actor=actor, obj=schedule)
    return schedule


def _flag_outside_hours(
    schedules: list[Schedule], *, start: datetime | None = None, end: datetime | None = None
) -> list[Appointment]:
    """Mark (and return) future booked appointments no longer inside working time, so a schedule
    edit never drops them silently: they are listed for rebooking; those inside again lose the
    mark. With `start`/`end` (an exception's time) only appointments then are looked at.

    Loads the appointments, hours and exceptions once and updates in bulk: a fixed number of
    queries however many schedules (a hospital holiday) and appointments are involved."""
    by_practitioner = {schedule.practitioner_id: schedule for schedule in schedules}
    upcoming = Appointment.objects.filter(
        practitioner_id__in=by_practitioner,
        start__gte=timezone.now(),
        status=S.BOOKED,
        overbooked=False,
    )
    if start is not None and end is not None:
        upcoming = upcoming.filter(start__lt=end, end__gt=start)
    upcoming = list(upcoming.order_by("start"))
    if not upcoming:
        return []
    first, last = upcoming[0].start - timedelta(days=1), max(a.end for a in upcoming)
    hours = defaultdict(list)
    for session in WorkingHours.objects.filter(schedule__in=schedules):
        hours[session.schedule_id].append(session)
    exceptions = list(
        ScheduleException.objects.filter(
            Q(schedule__in=schedules) | Q(schedule__isnull=True), start__lt=last, end__gt=first
        )
    )
    working = {
        schedule.pk: slot_engine.working_slots(
            schedule, hours[schedule.pk], exceptions, first, last
        )
        for schedule in schedules
    }
    flagged, changed = [], {True: [], False: []}
    for appointment in upcoming:
        schedule = by_practitioner[appointment.practitioner_id]
        outside = not slot_engine.covers(working[schedule.pk], appointment.start, appointment.end)
        if outside != appointment.needs_rebooking:
            changed[outside].append(appointment.pk)
        if outside:
            flagged.append(appointment)
    for outside, ids in changed.items():
        if ids:
            Appointment.objects.filter(pk__in=ids).update(needs_rebooking=outside)
    return flagged


def working_hours_set(
    *, actor: User, schedule: Schedule, sessions: list[dict]
) -> list[Appointment]:
    """Replace the weekly pattern. Returns the booked appointments now outside working hours
    (they keep their time and are flagged for rebooking, never dropped)."""
    require(actor, Perm.SCHEDULE_MANAGE)
    with transaction.atomic():
        Schedule.objects.select_for_update().get(pk=schedule.pk)
        schedule.hours.all().delete()
        WorkingHours.objects.bulk_create([WorkingHours(schedule=schedule, **s) for s in sessions])
        flagged = _flag_outside_hours([schedule])
        audit_record(
            action="scheduling.working_hours_set",
            actor=actor,
            obj=schedule,
            details={"sessions": len(sessions), "needs_rebooking": len(flagged)},
        )
    return flagged


def working_hours_add(*, actor: User, schedule: Schedule, **fields) -> tuple[WorkingHours, list]:
    """Add one weekly session."""
    require(actor, Perm.SCHEDULE_MANAGE)
    with transaction.atomic():
        session = WorkingHours.objects.create(schedule=schedule, **fields)
        flagged = _flag_outside_hours([schedule])
        audit_record(action="scheduling.working_hours_add", actor=actor, obj=session)
    return session, flagged


def working_hours_remove(*, actor: User, session: WorkingHours) -> list[Appointment]:
    """Remove one weekly session; returns the appointments that now need rebooking."""
    require(actor, Perm.SCHEDULE_MANAGE)
    schedule = session.schedule
    with transaction.atomic():
        audit_record(action="scheduling.working_hours_remove", actor=actor, obj=session)
        session.delete()
        flagged = _flag_outside_hours([schedule])
    return flagged


def schedule_exception_add(
    *,
    actor: User,
    schedule: Schedule | None,
    kind: str,
    start: datetime,
    end: datetime,
    reason: str = "",
    slot_minutes: int = 15,
    location: str = "",
) -> tuple[ScheduleException, list[Appointment]]:
    """Leave, a holiday (schedule None: everyone) or an extra session. Booked appointments that
    fall in removed time are flagged for rebooking and returned."""
    require(actor, Perm.SCHEDULE_MANAGE)
    if end <= start:
        raise DomainError("The end must be after the start.", fields={"end": "Must be later."})
    with transaction.atomic():
        exception = ScheduleException.objects.create(
            schedule=schedule,
            kind=kind,
            start=start,
            end=end,
            reason=reason,
            slot_minutes=slot_minutes,
            location=location,
        )
        flagged = _flag_after_exception_change(exception)
        audit_record(action="scheduling.exception_add", actor=actor, obj=exception)
    return exception, flagged


def schedule_exception_remove(*, actor: User, exception: ScheduleException) -> list[Appointment]:
    """Remove an exception; an extra session's appointments are flagged if now outside."""
    require(actor, Perm.SCHEDULE_MANAGE)
    with transaction.atomic():
        audit_record(action="scheduling.exception_remove", actor=actor, obj=exception)
        exception.delete()
        flagged = _flag_after_exception_change(exception)
    return flagged


def _flag_after_exception_change(exception: ScheduleException) -> list[Appointment]:
    """An exception touches one schedule, or every active one (a hospital holiday); only the
    appointments in its time can change."""
    schedule = exception.schedule
    targets = [schedule] if schedule else list(Schedule.objects.filter(is_active=True))
    return _flag_outside_hours(targets, start=exception.start, end=exception.end)


# --- Booking ---------------------------------------------------------------------------------


BOOKING_WINDOW = timedelta(days=2 * 366)


def _check_within_window(start: datetime) -> None:
    """Appointments lie within two years either side of today: a time like 9999-12-31 is a
    typing error (and its slot arithmetic would overflow the calendar), not a booking."""
    now = timezone.now()
    if not now - BOOKING_WINDOW <= start <= now + BOOKING_WINDOW:
        raise DomainError(
            "Choose a time within the next two years.",
            code="out_of_range",
            fields={"start": "Choose a time within the next two years."},
        )


def appointment_book_as(
    *,
    actor: User,
    practitioner: User | None = None,
    practitioner_id: int | None = None,
    start: datetime,
    patient: Patient | None = None,
    patient_id=None,
    service: Service | None = None,
    reason: str = "",
    kind: str = BookingKind.REGULAR,
    channel: str = BookingChannel.STAFF,
) -> Appointment:
    """The one booking entry point of pages, the API and the assistant. A portal patient books
    for their own record only (naming another is NotFound) and always through the portal
    channel; staff name the patient (`patient`, or `patient_id`: an access-checked, audited read)
    and the channel they use. The practitioner is a User, or the id of a doctor (read with the
    schedule). Then `appointment_book`'s rules apply."""
    if _is_patient_actor(actor):
        own = patient_of_user(actor)
        if own is None:
            raise DomainError("Your account has no patient record yet.", code="no_record")
        named = patient.pk if patient is not None else patient_id
        if named not in (None, "") and str(named) != str(own.pk):
            raise NotFound("No such patient.")
        patient, channel = own, BookingChannel.PORTAL
    else:
        require(actor, Perm.APPOINTMENT_BOOK, "Your role may not book appointments.")
    if patient is None:
        if patient_id in (None, ""):
            raise DomainError(
                "Name the patient.", code="required", fields={"patient": "This field is required."}
            )
        patient = patient_get_for_user(user=actor, patient_id=patient_id)
    return appointment_book(
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        practitioner_id=practitioner_id,
        start=start,
        service=service,
        reason=reason,
        kind=kind,
        channel=channel,
    )


def _open_waitlist_entries(patient) -> Q:
    """The patient's waitlist entries still open: waiting, or holding a slot offered to them."""
    return Q(patient=patient, status__in=[WaitlistStatus.OFFERED, WaitlistStatus.WAITING])


def _schedule_to_book(practitioner: User | None, practitioner_id: int | None) -> Schedule:
    """The schedule (see `slots.schedule_for_booking`) of the practitioner, given as a User, or
    as an id that must name a doctor (the id's own query runs only when the schedule is not
    found, to tell a wrong id from a doctor who takes no appointments)."""
    named = practitioner.pk if practitioner is not None else practitioner_id
    schedule = slot_engine.schedule_for_booking(practitioner_id=named)
    if practitioner is None and (
        schedule.practitioner.role != Role.DOCTOR
        if schedule is not None
        else not User.objects.filter(pk=named, role=Role.DOCTOR).exists()
    ):
        message = "No such practitioner."
        raise DomainError(message, code="invalid", fields={"practitioner": message})
    if schedule is None:
        raise NotFound("This practitioner takes no appointments.", code="no_schedule")
    return schedule


def appointment_book(
    *,
    actor: User,
    patient,
    practitioner: User | None = None,
    practitioner_id: int | None = None,
    start: datetime,
    service: Service | None = None,
    reason: str = "",
    kind: str = BookingKind.REGULAR,
    channel: str = BookingChannel.STAFF,
) -> Appointment:
    """Book the patient into the practitioner's free slot starting at `start`; the appointment
    lasts the service's duration, rounded up to whole slots, and every slot of it must be free.

    Exactly one of two bookings of the same or overlapping time wins: the database refuses the
    other (Conflict `slot_taken`; `patient_busy` when the patient is already booked then).
    Walk-ins (reception and clinicians) and urgent bookings (clinicians) may overlap booked
    slots and are marked."""
    _check_may_act_for(actor, patient)
    _check_within_window(start)
    if patient.merged_into_id is not None or not patient.is_active:
        raise DomainError("This patient record was merged or closed.", code="patient_inactive")
    schedule = _schedule_to_book(practitioner, practitioner_id)
    practitioner = practitioner or schedule.practitioner
    overbook = kind != BookingKind.REGULAR
    if overbook:
        walk_in = kind == BookingKind.WALK_IN
        require(
            actor,
            Perm.APPOINTMENT_WALK_IN if walk_in else Perm.APPOINTMENT_OVERBOOK,
            f"Your role may not book {BookingKind(kind).label.lower()} visits.",
        )
        if kind == BookingKind.WALK_IN:  # checked in at once: the patient is here today
            _check_within_check_in_window(start)
        minutes = service.duration_minutes if service else 15
        end, location, waitlist_quiet = start + timedelta(minutes=minutes), "", False
    else:
        if start <= timezone.now():
            raise DomainError("That time has passed.", code="slot_in_past")
        slot, waitlist_quiet = slot_engine.slot_look_up(
            schedule,
            start=start,
            for_patient=patient,
            online_only=_is_patient_actor(actor),
            minutes=service.duration_minutes if service else None,
            waiting=_open_waitlist_entries(patient),
        )
        if slot is None:
            raise Conflict(
                "That time is not a free slot. Please choose another.", code="slot_taken"
            )
        end, location = slot.end, slot.location
    try:
        with transaction.atomic():
            # Lock the patient row first, the order a merge takes (patients, then their
            # appointments): a merge either finished before (refused here, even when the
            # caller's copy of the record is stale) or waits and then moves this booking.
            locked = lock_patient(patient.pk)
            if locked is None or not locked.is_current:
                raise DomainError(
                    "This patient record was merged or closed.", code="patient_inactive"
                )
            appointment = Appointment.objects.create(
                patient=patient,
                practitioner=practitioner,
                department=schedule.department,
                service=service,
                start=start,
                end=end,
                location=location,
                kind=kind,
                overbooked=overbook,
                channel=channel,
                reason=reason,
                booked_by=actor,
                checked_in_at=timezone.now() if kind == BookingKind.WALK_IN else None,
                status=S.CHECKED_IN if kind == BookingKind.WALK_IN else S.BOOKED,
            )
            # The booking is what the patient waited for, if they were waiting (the slot's
            # look-up saw whether they have an open entry at all: most have none; one opened
            # since then is as one opened just after the booking, and stays open).
            if not waitlist_quiet:
                WaitlistEntry.objects.filter(_open_waitlist_entries(patient)).filter(
                    Q(practitioner=practitioner)
                    | Q(practitioner__isnull=True, department_id=schedule.department_id)
                ).update(status=WaitlistStatus.BOOKED, updated_at=timezone.now())
            audit_record(
                action="appointment.book",
                actor=actor,
                obj=appointment,
                patient=patient,
                details={"start": start.isoformat(), "kind": kind, "channel": channel},
            )
            _emit_appointment("appointment.booked", appointment, actor, kind=kind, channel=channel)
            if kind == BookingKind.WALK_IN:
                _emit_checked_in(appointment, actor)
    except IntegrityError as exc:
        raise _conflict_from(exc) from None
    return appointment


def appointment_reschedule(
    *, actor: User, appointment: Appointment, start: datetime
) -> Appointment:
    """Move a booked appointment to another free run of slots of the same practitioner, as long
    as its service. The old time is offered to the waitlist. Refused like a booking when the
    new time is taken."""
    _check_may_act_for(actor, appointment)
    _check_within_window(start)
    if appointment.status != S.BOOKED:
        raise Conflict("Only a booked appointment can be moved.", code="invalid_state")
    if _is_patient_actor(actor):
        _check_cutoff(appointment, "moved")
    schedule = slot_engine.schedule_for_booking(practitioner_id=appointment.practitioner_id)
    slot = schedule and slot_engine.slot_at(
        schedule,
        start=start,
        for_patient=appointment.patient,
        online_only=_is_patient_actor(actor),
        minutes=appointment.service.duration_minutes if appointment.service_id else None,
    )
    if slot is None or start <= timezone.now():
        raise Conflict("That time is not a free slot. Please choose another.", code="slot_taken")
    old_start, old_end = appointment.start, appointment.end
    try:
        with transaction.atomic():
            _lock_patient_of(appointment)
            moved = Appointment.objects.filter(pk=appointment.pk, status=S.BOOKED).update(
                start=slot.start,
                end=slot.end,
                location=slot.location,
                needs_rebooking=False,
                updated_at=timezone.now(),
            )
            if not moved:
                raise Conflict("The appointment changed meanwhile.", code="invalid_state")
            audit_record(
                action="appointment.reschedule",
                actor=actor,
                obj=appointment,
                patient=appointment.patient_id,
                details={"from": old_start.isoformat(), "to": slot.start.isoformat()},
            )
            _offer_freed_time(appointment, old_start, old_end)
    except IntegrityError as exc:
        raise _conflict_from(exc) from None
    appointment.refresh_from_db()
    return appointment


def _check_cutoff(appointment: Appointment, verb: str) -> None:
    hours = settings.APPOINTMENT_CANCEL_CUTOFF_HOURS
    if appointment.start - timezone.now() < timedelta(hours=hours):
        raise DomainError(
            f"Appointments can be {verb} online up to {hours} hours before they start. "
            "Please call the hospital.",
            code="cancellation_cutoff",
        )


def appointment_cancel(*, actor: User, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booked appointment with a reason. Patients may cancel online only until
    APPOINTMENT_CANCEL_CUTOFF_HOURS before the start. The freed slot goes to the waitlist."""
    _check_may_act_for(actor, appointment)
    reason = (reason or "").strip()
    if _is_patient_actor(actor):
        _check_cutoff(appointment, "cancelled")
        reason = reason or "Cancelled by the patient"
    if not reason:
        raise DomainError("Give a reason for cancelling.", fields={"reason": "Required."})
    with transaction.atomic():
        _lock_patient_of(appointment)
        now = timezone.now()
        cancelled = Appointment.objects.filter(pk=appointment.pk, status=S.BOOKED).update(
            status=S.CANCELLED, cancelled_at=now, cancel_reason=reason[:300], updated_at=now
        )
        if not cancelled:
            raise Conflict("Only a booked appointment can be cancelled.", code="invalid_state")
        audit_record(
            action="appointment.cancel",
            actor=actor,
            obj=appointment,
            patient=appointment.patient_id,
            details={"reason": reason},
        )
        _emit_appointment("appointment.cancelled", appointment, actor, reason=reason[:300])
        if not appointment.overbooked:
            _offer_freed_time(appointment, appointment.start, appointment.end)
    appointment.refresh_from_db()
    return appointment


def _lock_patient_of(appointment: Appointment) -> None:
    """Lock the appointment's patient row before the appointment (the lock order above). A merge
    may move the appointment to the survivor while this waits: then lock the survivor too."""
    while True:
        current = Appointment.objects.filter(pk=appointment.pk).values_list("patient_id")
        patient_id = next(iter(current), (None,))[0]
        lock_patient(patient_id)
        if patient_id is None or current.filter(patient_id=patient_id).exists():
            return


def _transition(
    *, actor, appointment: Appointment, to: str, allowed_from: tuple, action: str, **extra
) -> bool:
    _lock_patient_of(appointment)
    changed = Appointment.objects.filter(pk=appointment.pk, status__in=allowed_from).update(
        status=to, updated_at=timezone.now(), **extra
    )
    if changed:
        audit_record(action=action, actor=actor, obj=appointment, patient=appointment.patient_id)
    return bool(changed)


def _appointment_facts(appointment: Appointment, actor) -> dict:
    """The plain payload of every `appointment.*` event (the outbox and workflow rules read it)."""
    return {
        "appointment_id": str(appointment.pk),
        "patient_id": str(appointment.patient_id),
        "service_id": str(appointment.service_id or ""),
        "practitioner_id": str(appointment.practitioner_id),
        "department_id": str(appointment.department_id),
        "department_name": appointment.department.name,
        "start": appointment.start,
        "end": appointment.end,
        "actor_id": str(getattr(actor, "pk", "") or ""),
    }


def _emit_appointment(event: str, appointment: Appointment, actor, **extra) -> None:
    emit(event, **_appointment_facts(appointment, actor), **extra)


def _emit_checked_in(appointment: Appointment, actor) -> None:
    emit(
        "appointment.checked_in",
        **_appointment_facts(appointment, actor),
        patient=appointment.patient,
        practitioner=appointment.practitioner,
        department=appointment.department,
        actor=actor,
    )


def check_in_window(start: datetime) -> tuple[datetime, datetime]:
    """When an appointment starting at `start` may be checked in: from CHECK_IN_OPENS_HOURS_BEFORE
    hours before it to the end of its day in the hospital's time zone."""
    zone = slot_engine.local_zone()
    next_day = timezone.localtime(start, zone).date() + timedelta(days=1)
    opens = start - timedelta(hours=settings.CHECK_IN_OPENS_HOURS_BEFORE)
    return opens, datetime.combine(next_day, time.min, tzinfo=zone)


def _check_within_check_in_window(start: datetime) -> None:
    opens, closes = check_in_window(start)
    now = timezone.now()
    if now < opens:
        raise DomainError(f"Check-in opens on {_fmt(opens)}.", code="too_early")
    if now >= closes:
        raise DomainError("Check-in closed at the end of the appointment's day.", code="too_late")


def appointment_check_in(*, actor: User, appointment: Appointment) -> Appointment:
    """The patient has arrived: booked -> checked in, only within the check-in window (see
    `check_in_window`). The clinical record opens the encounter (through the
    `appointment.checked_in` event)."""
    require(actor, Perm.APPOINTMENT_BOOK, "Your role may not check patients in.")
    _check_within_check_in_window(appointment.start)
    with transaction.atomic():
        if not _transition(
            actor=actor,
            appointment=appointment,
            to=S.CHECKED_IN,
            allowed_from=(S.BOOKED,),
            action="appointment.check_in",
            checked_in_at=timezone.now(),
        ):
            raise Conflict("Only a booked appointment can be checked in.", code="invalid_state")
        appointment.refresh_from_db()
        _emit_checked_in(appointment, actor)
    return appointment


def appointment_mark_no_show(*, actor: User, appointment: Appointment) -> Appointment:
    """A booked patient did not come: only once the appointment's time has begun."""
    require(actor, Perm.APPOINTMENT_BOOK, "Your role may not record no-shows.")
    if appointment.start > timezone.now():
        raise DomainError("A no-show can be recorded only after the start.", code="too_early")
    with transaction.atomic():
        if not _transition(
            actor=actor,
            appointment=appointment,
            to=S.NO_SHOW,
            allowed_from=(S.BOOKED,),
            action="appointment.no_show",
        ):
            raise Conflict("Only a booked appointment can be a no-show.", code="invalid_state")
        _emit_appointment("appointment.no_show", appointment, actor)
    appointment.refresh_from_db()
    return appointment


def appointment_start_consultation(*, actor: User, appointment_id, encounter=None) -> bool:
    """The doctor opened the encounter: booked/checked in -> in consultation (idempotent)."""
    require(actor, Perm.CLINICAL_WRITE)
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return False
    with transaction.atomic():
        return _transition(
            actor=actor,
            appointment=appointment,
            to=S.IN_CONSULTATION,
            allowed_from=(S.BOOKED, S.CHECKED_IN),
            action="appointment.consultation_start",
            started_at=timezone.now(),
            encounter_ref=str(getattr(encounter, "pk", "") or "")[:64],
        )


def appointment_complete(*, actor: User, appointment_id, encounter=None) -> bool:
    """The encounter was completed: the appointment is completed (idempotent) and
    `appointment.completed` announced (billing posts the consultation's charge)."""
    require(actor, Perm.CLINICAL_WRITE)
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return False
    with transaction.atomic():
        completed = _transition(
            actor=actor,
            appointment=appointment,
            to=S.COMPLETED,
            allowed_from=(S.BOOKED, S.CHECKED_IN, S.IN_CONSULTATION),
            action="appointment.complete",
            completed_at=timezone.now(),
        )
        if completed:  # once: a repeated completion changes nothing and announces nothing
            appointment.refresh_from_db()  # a merge may have moved it while we waited
            emit(
                "appointment.completed",
                appointment_id=str(appointment.pk),
                patient_id=str(appointment.patient_id),
                service_id=appointment.service_id,
                practitioner_id=appointment.practitioner_id,
                department_id=appointment.department_id,
                # plain facts for the outbox and workflow rules
                department_name=appointment.department.name,
                start=appointment.start,
                end=appointment.end,
                actor_id=str(getattr(actor, "pk", "") or ""),
            )
        return completed


APPOINTMENT_LABEL = Appointment._meta.label_lower


def appointments_move_for_merge(*, actor: User, merge: PatientMerge) -> int:
    """A patient merge moves the duplicate's appointments to the survivor (recorded on the
    merge). Where the survivor is already booked at the same time, the duplicate's appointment
    is cancelled instead."""
    require(actor, Perm.PATIENT_MERGE)
    survivor, duplicate = merge.survivor, merge.duplicate
    moved = []
    with transaction.atomic():
        for appointment in Appointment.objects.select_for_update().filter(patient=duplicate):
            clash = (
                appointment.is_active
                and Appointment.objects.filter(
                    patient=survivor, start__lt=appointment.end, end__gt=appointment.start
                )
                .exclude(status__in=RELEASED_STATUSES)
                .exists()
            )
            if clash:
                Appointment.objects.filter(pk=appointment.pk).update(
                    status=S.CANCELLED,
                    cancelled_at=timezone.now(),
                    cancel_reason="Duplicate booking found when patient records were merged",
                )
            moved.append(appointment.pk)
        Appointment.objects.filter(pk__in=moved).update(patient=survivor)
        merge.record_moved(APPOINTMENT_LABEL, moved)
        audit_record(
            action="appointment.merge_move",
            actor=actor,
            patient=survivor,
            details={
                "merge_id": str(merge.pk),
                "duplicate": str(duplicate.pk),
                "moved": len(moved),
            },
        )
    return len(moved)


def appointments_move_back_for_unmerge(*, actor: User, merge: PatientMerge) -> int:
    """Undoing a merge moves the appointments it moved back to their first patient."""
    require(actor, Perm.PATIENT_MERGE)
    with transaction.atomic():
        count = Appointment.objects.filter(pk__in=merge.moved_ids(APPOINTMENT_LABEL)).update(
            patient=merge.duplicate_id
        )
        audit_record(
            action="appointment.unmerge_move",
            actor=actor,
            details={"merge_id": str(merge.pk), "moved": count},
        )
    return count


# --- Waitlist --------------------------------------------------------------------------------


def waitlist_join(
    *, actor: User, patient, department: Department, practitioner=None, note: str = ""
) -> WaitlistEntry:
    """The patient waits for an earlier slot with a practitioner or anyone in a department."""
    _check_may_act_for(actor, patient)
    with transaction.atomic():
        entry = WaitlistEntry.objects.create(
            patient=patient, department=department, practitioner=practitioner, note=note
        )
        audit_record(action="waitlist.join", actor=actor, obj=entry, patient=patient)
    return entry


def _slot_key(start: datetime) -> str:
    return start.astimezone(timezone.UTC).isoformat()


def _offer_freed_time(appointment: Appointment, start: datetime, end: datetime) -> None:
    if start > timezone.now():
        waitlist_offer_slot(
            practitioner_id=appointment.practitioner_id,
            department_id=appointment.department_id,
            start=start,
            end=end,
        )


def waitlist_offer_slot(
    *, practitioner_id: int, department_id: int, start: datetime, end: datetime
) -> WaitlistEntry | None:
    """Offer a freed slot to the first patient waiting for that practitioner or department
    (who has not let this slot go before), holding it for WAITLIST_HOLD_MINUTES."""
    busy = Appointment.objects.filter(
        slot_engine.HOLDS_ITS_TIME, practitioner_id=practitioner_id, start__lt=end, end__gt=start
    ).exists()
    if busy:
        return None
    key = _slot_key(start)
    with transaction.atomic():
        candidates = (
            WaitlistEntry.objects.select_for_update()
            .filter(status=WaitlistStatus.WAITING)
            .filter(
                Q(practitioner_id=practitioner_id)
                | Q(practitioner__isnull=True, department_id=department_id)
            )
            .select_related("patient")
            .order_by("created_at", "pk")
        )
        for entry in candidates:
            if key in entry.declined:
                continue
            hold = timedelta(minutes=settings.WAITLIST_HOLD_MINUTES)
            entry.status = WaitlistStatus.OFFERED
            entry.offered_practitioner_id = practitioner_id
            entry.offered_start, entry.offered_end = start, end
            entry.offer_expires_at = timezone.now() + hold
            entry.save()
            audit_record(
                action="waitlist.offer", obj=entry, patient=entry.patient, details={"start": key}
            )
            patient = entry.patient
            if patient.user_id:
                notify(
                    user=patient.user,
                    title="An earlier appointment is free for you",
                    body=(
                        f"A slot on {_fmt(start)} is held for you until "
                        f"{_fmt(entry.offer_expires_at)}. Book it in the portal."
                    ),
                    url=reverse("scheduling:portal-appointments"),
                    email=patient.email if patient.consent_email else "",
                )
            return entry
    return None


def waitlist_release_offer(*, actor: User, entry: WaitlistEntry) -> WaitlistEntry | None:
    """The holder lets the offer go: they wait again, and the slot goes to the next patient.
    Returns the next offer, if any."""
    _check_may_act_for(actor, entry)
    return _release_offer(entry=entry, actor=actor)


def _release_offer(*, entry: WaitlistEntry, actor: User | None) -> WaitlistEntry | None:
    with transaction.atomic():
        released = WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistStatus.OFFERED)
        entry = released.select_for_update().first()
        if entry is None:
            return None
        practitioner_id, start, end = (
            entry.offered_practitioner_id,
            entry.offered_start,
            entry.offered_end,
        )
        entry.declined = [*entry.declined, _slot_key(start)]
        entry.status = WaitlistStatus.WAITING
        entry.offered_practitioner_id = entry.offered_start = entry.offered_end = None
        entry.offer_expires_at = None
        entry.save()
        audit_record(action="waitlist.release", actor=actor, obj=entry, patient=entry.patient_id)
        return waitlist_offer_slot(
            practitioner_id=practitioner_id,
            department_id=entry.department_id,
            start=start,
            end=end,
        )


def waitlist_expire_offers(*, now: datetime | None = None) -> int:
    """Pass every expired hold on to the next waiting patient. Safe to run at any time."""
    now = now or timezone.now()
    expired = WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED, offer_expires_at__lte=now)
    count = 0
    for entry in expired:
        _release_offer(entry=entry, actor=None)
        count += 1
    return count


# --- Reminders -------------------------------------------------------------------------------


def reminder_opt_out_set(*, actor: User, patient, opted_out: bool) -> None:
    """The patient turns appointment reminders off (or on again)."""
    _check_may_act_for(actor, patient)
    with transaction.atomic():
        if opted_out:
            ReminderOptOut.objects.get_or_create(patient=patient)
        else:
            ReminderOptOut.objects.filter(patient=patient).delete()
        audit_record(
            action="reminder.opt_out" if opted_out else "reminder.opt_in",
            actor=actor,
            patient=patient,
        )


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Remind each patient once, APPOINTMENT_REMINDER_HOURS before a booked appointment, in the
    portal and by email (if they agreed to email). The reminder row is claimed first under a
    unique constraint, so a job that runs twice (or twice at once) sends one reminder."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    due = (
        Appointment.objects.filter(status=S.BOOKED, start__gt=now, start__lte=horizon)
        .exclude(reminders__kind=ReminderKind.BEFORE_VISIT)
        .select_related("patient", "patient__user", "practitioner", "department")
    )
    opted_out = set(
        ReminderOptOut.objects.filter(patient__in=due.values("patient")).values_list(
            "patient_id", flat=True
        )
    )
    sent = 0
    for appointment in due:
        patient = appointment.patient
        wants = patient.pk not in opted_out
        by_email = wants and patient.consent_email and bool(patient.email)
        in_app = wants and patient.user_id is not None
        try:
            with transaction.atomic():
                Reminder.objects.create(
                    appointment=appointment,
                    kind=ReminderKind.BEFORE_VISIT,
                    by_email=by_email,
                    in_app=in_app,
                )
                if in_app or by_email:
                    title = f"Reminder: appointment on {_fmt(appointment.start)}"
                    body = (
                        f"You are booked with {appointment.practitioner.full_name} "
                        f"({appointment.department.name}) on {_fmt(appointment.start)}"
                        f"{', ' + appointment.location if appointment.location else ''}."
                    )
                    if in_app:
                        notify(
                            user=patient.user,
                            title=title,
                            body=body,
                            url=reverse("scheduling:portal-appointments"),
                            email=patient.email if by_email else "",
                        )
                    else:
                        email_after_commit(subject=title, body=body, to=patient.email)
                    sent += 1
                audit_record(
                    action="appointment.reminder",
                    obj=appointment,
                    patient=patient,
                    details={"email": by_email, "in_app": in_app},
                )
        except IntegrityError:
            continue  # another run claimed this reminder first
    return sent
