"""Demo schedules and appointments: working hours for every demo doctor, a few services per
department, and appointments for demo patients (past ones completed, upcoming ones booked).
Idempotent: schedules are created once; appointments only when there are none yet.
`refresh` gives today a clinic (walk-ins waiting in the queue, the rest of the day booked)
whenever today has none, so the "today" pages never start empty."""

from datetime import time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from hms.accounts.models import User
from hms.core.demo import DemoContext
from hms.core.errors import DomainError
from hms.core.models import Department
from hms.core.permissions import Role
from hms.patients.models import Patient
from hms.scheduling import services
from hms.scheduling.models import (
    Appointment,
    AppointmentStatus,
    BookingKind,
    Schedule,
    Service,
    WorkingHours,
)
from hms.scheduling.slots import free_slots, local_zone

SERVICES = [("First consultation", 30, "CONS-NEW"), ("Follow-up", 15, "CONS-FU")]


def _hours_for(schedule: Schedule, index: int) -> list[WorkingHours]:
    room = f"{schedule.department.location or 'Outpatients'}, room {index + 1}"
    sessions = []
    for weekday in range(6):  # Monday to Saturday, so the demo has free slots most days
        if weekday == 5 and index % 2:
            continue
        sessions.append(
            WorkingHours(
                schedule=schedule,
                weekday=weekday,
                start_time=time(9, 0),
                end_time=time(17, 0) if weekday < 5 else time(12, 0),
                slot_minutes=15,
                break_start=time(12, 30) if weekday < 5 else None,
                break_end=time(13, 30) if weekday < 5 else None,
                location=room,
            )
        )
    return sessions


def seed(ctx: DemoContext) -> None:
    for department in Department.objects.all():
        for name, minutes, code in SERVICES:
            Service.objects.get_or_create(
                department=department,
                name=name,
                defaults={"duration_minutes": minutes, "price_code": f"{code}-{department.slug}"},
            )
    doctors = User.objects.filter(role=Role.DOCTOR, staff_profile__department__isnull=False)
    new_hours = []
    for index, doctor in enumerate(doctors.select_related("staff_profile__department")):
        schedule, created = Schedule.objects.get_or_create(
            practitioner=doctor, defaults={"department": doctor.staff_profile.department}
        )
        if created:
            new_hours += _hours_for(schedule, index)
    WorkingHours.objects.bulk_create(new_hours)
    if Appointment.objects.exists():
        return
    _seed_appointments(ctx)


def _seed_appointments(ctx: DemoContext) -> None:
    receptionist = User.objects.filter(role=Role.RECEPTIONIST).first()
    if receptionist is None:
        return
    patients = list(Patient.objects.filter(merged_into__isnull=True).order_by("mrn")[:30])
    own = Patient.objects.filter(user__email="patient@demo.hms").first()
    if own is not None and own not in patients:
        patients.insert(0, own)
    if not patients:
        return
    now = timezone.now()
    slots = free_slots(start=now + timedelta(hours=3), end=now + timedelta(days=10))
    rng = ctx.rng
    chosen = rng.sample(slots, min(len(slots), len(patients) * 3))
    for patient, slot in zip(patients, chosen[: len(patients)], strict=False):
        doctor = User.objects.get(pk=slot.practitioner_id)
        try:
            services.appointment_book(
                actor=receptionist,
                patient=patient,
                practitioner=doctor,
                start=slot.start,
                reason=rng.choice(["Check-up", "Follow-up", "Cough", "Back pain", "Rash", ""]),
            )
        except DomainError:
            continue
    # Some history: completed visits over the past weeks (written directly: the past cannot be
    # booked through the service).
    schedules = list(Schedule.objects.all())
    for n, patient in enumerate(patients[:15]):
        schedule = schedules[n % len(schedules)]
        day = timezone.localdate() - timedelta(days=7 + n)
        start = timezone.make_aware(
            timezone.datetime.combine(day, time(9, 0)) + timedelta(minutes=15 * (n % 12))
        )
        try:
            with transaction.atomic():
                Appointment.objects.create(
                    patient=patient,
                    practitioner_id=schedule.practitioner_id,
                    department_id=schedule.department_id,
                    start=start,
                    end=start + timedelta(minutes=15),
                    status=AppointmentStatus.COMPLETED,
                    booked_by=receptionist,
                    checked_in_at=start - timedelta(minutes=10),
                    completed_at=start + timedelta(minutes=15),
                    reason="Routine visit",
                )
        except IntegrityError:
            continue


TODAY_WALK_INS = 3  # arrived and waiting in the demo doctor's department
TODAY_BOOKED = 8  # the rest of today, across the doctors


def refresh(ctx: DemoContext) -> None:
    """Today's clinic, once a day: walk-ins checked in now (so the queue has patients, each
    with the encounter their check-in opens) and bookings in today's remaining free slots."""
    receptionist = User.objects.filter(role=Role.RECEPTIONIST).first()
    doctor = User.objects.filter(email="doctor@demo.hms", schedule__isnull=False).first()
    if receptionist is None or doctor is None:
        return
    now = timezone.now()
    today = timezone.localdate()
    if Appointment.objects.filter(kind=BookingKind.WALK_IN, start__date=today).exists():
        return
    busy_today = Appointment.objects.filter(start__date=today).values_list("patient_id")
    patients = list(
        Patient.objects.filter(merged_into__isnull=True, user__isnull=True)
        .exclude(pk__in=busy_today)
        .order_by("mrn")[: TODAY_WALK_INS + TODAY_BOOKED]
    )
    for patient in patients[:TODAY_WALK_INS]:
        try:
            services.appointment_book(
                actor=receptionist, patient=patient, practitioner=doctor, start=now,
                reason=ctx.rng.choice(["Chest pain", "Fever", "Fall at home", "Dizziness"]),
                kind=BookingKind.WALK_IN,
            )  # fmt: skip
        except DomainError:
            continue
    end_of_day = timezone.datetime.combine(today + timedelta(days=1), time(0), local_zone())
    slots = free_slots(start=now + timedelta(minutes=30), end=end_of_day)
    own = [s for s in slots if s.practitioner_id == doctor.pk][::2][: TODAY_BOOKED // 2]
    others = [s for s in slots if s.practitioner_id != doctor.pk]
    chosen = own + ctx.rng.sample(others, min(len(others), TODAY_BOOKED - len(own)))
    for patient, slot in zip(patients[TODAY_WALK_INS:], chosen, strict=False):
        try:
            services.appointment_book(
                actor=receptionist, patient=patient, start=slot.start,
                practitioner=User.objects.get(pk=slot.practitioner_id),
                reason=ctx.rng.choice(["Check-up", "Follow-up", "Cough", "Back pain", "Rash"]),
            )  # fmt: skip
        except DomainError:
            continue
