"""Schedules, appointments, the waitlist and what the patient is told about them.

FHIR mapping: `Schedule` is a FHIR Schedule (actor = practitioner, location, department as
serviceType); free slots are computed from `WorkingHours` and `ScheduleException` and map to
FHIR Slot (status "free"); `Appointment` is a FHIR Appointment (participants: patient and
practitioner; status booked/arrived/fulfilled/cancelled/noshow via `Appointment.FHIR_STATUS`).

No double booking is enforced by the database, not only by the services: migration 0002 adds
an exclusion constraint on PostgreSQL (btree_gist over the time range) and a partial unique
index plus overlap triggers on SQLite, for the practitioner and for the patient. A later
migration that makes Django rebuild the appointment table on SQLite drops those triggers: it
must create them again (test_booking's overlap tests fail if it does not).
"""

import secrets
import uuid

from django.conf import settings
from django.db import models

from hms.core.models import Department, TimeStampedModel


class Service(TimeStampedModel):
    """Something a department offers by appointment: a first consultation, a follow-up, an ECG."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(default=15)
    price_code = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="service_unique_name"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="service_duration_min_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class Schedule(TimeStampedModel):
    """A practitioner's bookable calendar (FHIR Schedule): where and for which department."""

    practitioner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="schedules")
    is_active = models.BooleanField(default=True)
    bookable_online = models.BooleanField(
        default=True, help_text="Patients may book in the portal."
    )
    # The secret part of the iCalendar feed's address; long and random, rotated by a service.
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)

    class Meta:
        ordering = ["practitioner__family_name", "practitioner__given_name"]

    def __str__(self) -> str:
        return f"Schedule of {self.practitioner}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(TimeStampedModel):
    """One weekly session (hospital local time): e.g. Mondays 09:00-13:00 in Clinic 3, 15-minute
    slots, with an optional break."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    break_start = models.TimeField(null=True, blank=True)
    break_end = models.TimeField(null=True, blank=True)
    location = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="working_hours_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5), name="working_hours_slot_min_5"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(break_start__isnull=True, break_end__isnull=True)
                | models.Q(break_end__gt=models.F("break_start")),
                name="working_hours_break_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", "Leave"
    HOLIDAY = "holiday", "Public holiday"
    EXTRA = "extra", "Extra session"


class ScheduleException(TimeStampedModel):
    """A change to the weekly pattern: leave or a holiday removes time, an extra session adds it.

    A holiday without a schedule applies to every practitioner."""

    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions"
    )
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    location = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["schedule", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="schedule_exception_end_after"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[c.value for c in ExceptionKind]),
                name="schedule_exception_kind_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="extra", schedule__isnull=True),
                name="schedule_exception_extra_has_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    IN_CONSULTATION = "in_consultation", "In consultation"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Appointments in these states no longer hold their time (migration 0002 repeats the list).
RELEASED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class BookingKind(models.TextChoices):
    REGULAR = "regular", "Regular"
    WALK_IN = "walk_in", "Walk-in"
    URGENT = "urgent", "Urgent (overbooked)"


class BookingChannel(models.TextChoices):
    STAFF = "staff", "Staff"
    PORTAL = "portal", "Patient portal"
    API = "api", "API"


class Appointment(TimeStampedModel):
    """A patient's booked time with a practitioner (FHIR Appointment)."""

    FHIR_STATUS = {
        AppointmentStatus.BOOKED: "booked",
        AppointmentStatus.CHECKED_IN: "arrived",
        AppointmentStatus.IN_CONSULTATION: "arrived",
        AppointmentStatus.COMPLETED: "fulfilled",
        AppointmentStatus.CANCELLED: "cancelled",
        AppointmentStatus.NO_SHOW: "noshow",
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    location = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    kind = models.CharField(max_length=16, choices=BookingKind.choices, default="regular")
    # Overbooked appointments (walk-ins, urgent) sit on top of the slot grid: they are allowed
    # to overlap the practitioner's other appointments, and say so on every screen.
    overbooked = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, choices=BookingChannel.choices, default="staff")
    reason = models.CharField("reason for visit", max_length=300, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # Set when a schedule edit left this appointment outside working hours: rebook it.
    needs_rebooking = models.BooleanField(default=False)
    encounter_ref = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["practitioner", "start"]),
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["department", "start"]),
            models.Index(fields=["status", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in AppointmentStatus]),
                name="appointment_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(overbooked=False) | ~models.Q(kind="regular"),
                name="appointment_overbooked_is_marked",
            ),
            # Same start twice: the cheap half of the no-overlap rule, on every database.
            models.UniqueConstraint(
                fields=["practitioner", "start"],
                condition=models.Q(overbooked=False) & ~models.Q(status__in=RELEASED_STATUSES),
                name="appointment_practitioner_start_unique",
            ),
            models.UniqueConstraint(
                fields=["patient", "start"],
                condition=~models.Q(status__in=RELEASED_STATUSES),
                name="appointment_patient_start_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} with {self.practitioner_id} at {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status not in RELEASED_STATUSES

    @property
    def fhir_status(self) -> str:
        return self.FHIR_STATUS[AppointmentStatus(self.status)]


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"


class WaitlistEntry(TimeStampedModel):
    """A patient waiting for an earlier slot with a practitioner, or anyone in a department.

    When a slot frees up the first waiting entry is offered it: the slot is held for that patient
    until `offer_expires_at`, then offered to the next."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=WaitlistStatus.choices, default="waiting")
    note = models.CharField(max_length=200, blank=True)
    offered_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_end = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # Slots this entry was offered and let go: never offered to it again.
    declined = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["status", "department", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="offered")
                | models.Q(offered_start__isnull=False, offer_expires_at__isnull=False),
                name="waitlist_offer_has_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} waiting ({self.status})"


class ReminderKind(models.TextChoices):
    BEFORE_VISIT = "before_visit", "Before the visit"


class Reminder(models.Model):
    """A reminder that was sent: one per appointment and kind, claimed before sending."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=32, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    by_email = models.BooleanField(default=False)
    in_app = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "kind"], name="reminder_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for {self.appointment_id}"


class ReminderOptOut(models.Model):
    """A patient who asked not to be reminded of appointments (email and in-app)."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="reminder_opt_out"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.patient_id} opted out of reminders"
