"""Pages of scheduling: the staff calendar and booking, the queue, schedules, the portal, public
pages and calendar feeds. Thin: parse, call one service or selector, render."""

import re
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_POST

from hms.accounts.models import User
from hms.core.access import public, require_perm
from hms.core.dates import date_in_range
from hms.core.errors import DomainError, NotFound
from hms.core.forms import form_add_domain_error
from hms.core.models import Department
from hms.core.notifications import recent_notices
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.selectors import patient_get_for_user, patient_of_user
from hms.scheduling import ical, selectors, services
from hms.scheduling.forms import (
    CancelForm,
    ExceptionForm,
    FindDoctorForm,
    OverbookForm,
    PortalBookForm,
    PortalCancelForm,
    StaffBookForm,
    StaffWaitlistForm,
    WorkingHoursForm,
)
from hms.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Schedule,
    WaitlistEntry,
)
from hms.scheduling.slots import free_slots, local_zone, next_free_slots, slot_lookup

S = AppointmentStatus


MAX_ID = 2**63 - 1  # the largest id the database stores; a bigger number names nothing


def _id(raw) -> int | None:
    """A positive database id from a query string or form, or None (never an overflow)."""
    raw = str(raw or "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def _date(text: str):
    """parse_date, but None for a well-formed impossible date (2026-02-31) or one outside the
    years a hospital means (9999-12-31 overflowed a week later) instead of a crash."""
    try:
        day = parse_date(text or "")
    except ValueError:
        return None
    return day if day is not None and date_in_range(day) else None


def _day_from(request, key: str = "day"):
    day = _date(request.GET.get(key, ""))
    return day or timezone.localdate()


def _moment(text: str | None) -> datetime | None:
    # A "+02:00" offset arrives as " 02:00" when a link did not encode it.
    try:
        moment = parse_datetime(re.sub(r" (\d\d:?\d\d)$", r"+\1", (text or "").strip()))
    except ValueError:  # well-formed but impossible (2026-02-31T10:00): not a moment
        return None
    if moment is not None and not date_in_range(moment):
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _practitioner_from(request, *, with_schedule: bool = False) -> User | None:
    """The doctor named by ?practitioner= (GET or POST); None for a missing or malformed id."""
    pk = _id(request.GET.get("practitioner") or request.POST.get("practitioner"))
    if pk is None:
        return None
    doctors = User.objects.filter(pk=pk, role=Role.DOCTOR)
    if with_schedule:
        doctors = doctors.filter(schedule__isnull=False)
    return doctors.first()


# --- Staff: calendar -------------------------------------------------------------------------


def _booking_for(request):
    """The patient being booked, named by ?patient= (from the chart's "Book appointment"); an
    audited, access-checked read. None when absent or unknown."""
    if not request.GET.get("patient"):
        return None
    try:
        return patient_get_for_user(
            user=request.user, patient_id=request.GET["patient"], action="appointment.book_form"
        )
    except NotFound:
        return None


def _calendar_context(request) -> dict:
    """The calendar asked for by ?view=, ?day=, ?practitioner= or ?department=, and the patient
    being booked (carried along by every calendar link, so a chosen slot books them)."""
    calendar = selectors.calendar_for(
        user=request.user,
        day=_day_from(request),
        view="week" if request.GET.get("view") == "week" else "day",
        practitioner_id=_id(request.GET.get("practitioner")),
        department_id=_id(request.GET.get("department")),
    )
    booking_for = _booking_for(request)
    return {
        **vars(calendar),
        "can_book": user_has_perm(request.user, Perm.APPOINTMENT_BOOK),
        "can_walk_in": user_has_perm(request.user, Perm.APPOINTMENT_WALK_IN),
        "booking_for": booking_for,
        "patient_param": f"&patient={booking_for.pk}" if booking_for else "",
    }


@require_perm(Perm.APPOINTMENT_VIEW)
def appointments_calendar(request):
    context = _calendar_context(request)
    if request.htmx:
        return render(request, "scheduling/_calendar.html", context)
    own = Schedule.objects.filter(practitioner=request.user).first()
    context.update(
        departments=Department.objects.filter(is_active=True),
        practitioners=selectors.practitioners_search(),
        own_schedule=own,
        feed_url=request.build_absolute_uri(
            reverse("scheduling:calendar-feed", args=[own.calendar_token])
        )
        if own
        else "",
        rebooking=Appointment.objects.filter(
            needs_rebooking=True, status=S.BOOKED, start__gte=timezone.now()
        ).count(),
    )
    return render(request, "scheduling/calendar.html", context)


@require_perm(Perm.APPOINTMENT_BOOK)
def appointment_book(request):
    practitioner = _practitioner_from(request)
    start = _moment(request.GET.get("start") or request.POST.get("start"))
    schedule = Schedule.objects.filter(practitioner=practitioner).first() if practitioner else None
    if schedule is None or start is None:
        raise Http404("Choose a free slot on the calendar first.")
    booking_for = _booking_for(request)
    form = StaffBookForm(
        request.POST or None,
        department_id=schedule.department_id,
        initial={"mrn": booking_for.mrn_display if booking_for else ""},
    )
    if request.method == "POST" and form.is_valid():
        patient = form.cleaned_data["mrn"]
        try:
            appointment = services.appointment_book_as(
                actor=request.user,
                patient=patient,
                practitioner=practitioner,
                start=start,
                service=form.cleaned_data["service"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Booked {patient.full_name}.")
            return redirect("scheduling:appointment-detail", appointment_id=appointment.pk)
    return render(
        request,
        "scheduling/book.html",
        {
            "form": form,
            "practitioner": practitioner,
            "start": start,
            "schedule": schedule,
            "booking_for": booking_for,
        },
    )


@require_perm(Perm.APPOINTMENT_WALK_IN)
def appointment_overbook(request):
    """Walk-ins (reception and clinicians) and urgent bookings (clinicians), outside the slot
    grid and marked as such."""
    practitioner = _practitioner_from(request, with_schedule=True)
    if practitioner is None:
        practitioner = request.user if Schedule.objects.filter(practitioner=request.user) else None
    if practitioner is None:
        return render(
            request,
            "scheduling/overbook.html",
            {"practitioners": selectors.practitioners_search(), "query": request.GET},
        )
    booking_for = _booking_for(request)
    form = OverbookForm(
        request.POST or None,
        department_id=practitioner.schedule.department_id,
        user=request.user,
        initial={"mrn": booking_for.mrn_display if booking_for else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book_as(
                actor=request.user,
                patient=form.cleaned_data["mrn"],
                practitioner=practitioner,
                start=form.cleaned_data["start"] or timezone.now(),
                service=form.cleaned_data["service"],
                reason=form.cleaned_data["reason"],
                kind=form.cleaned_data["kind"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{appointment.get_kind_display()} booked.")
            return redirect("scheduling:appointment-detail", appointment_id=appointment.pk)
    return render(
        request,
        "scheduling/overbook.html",
        {"form": form, "practitioner": practitioner, "query": request.GET},
    )


@require_perm(Perm.APPOINTMENT_VIEW)
def appointment_detail(request, appointment_id):
    try:
        appointment = selectors.appointment_get_for_user(
            user=request.user, appointment_id=appointment_id
        )
    except DomainError:
        raise Http404("No such appointment.") from None
    alternatives = []
    now = timezone.now()
    opens, closes = services.check_in_window(appointment.start)
    if appointment.status == S.BOOKED:
        alternatives = free_slots(
            start=now,
            end=now + timedelta(days=14),
            practitioner_ids=[appointment.practitioner_id],
            for_patient=appointment.patient,
        )[:24]
    return render(
        request,
        "scheduling/appointment_detail.html",
        {
            "appointment": appointment,
            "alternatives": alternatives,
            "cancel_form": CancelForm(),
            "can_book": user_has_perm(request.user, Perm.APPOINTMENT_BOOK),
            "started": appointment.start <= now,
            "now": now,
            "check_in_opens": opens,
            "check_in_open": opens <= now < closes,
            # check-in opened an encounter (clinical keeps the appointment's id on it)
            "encounter_link": appointment.status in (S.CHECKED_IN, S.IN_CONSULTATION, S.COMPLETED)
            and user_has_perm(request.user, Perm.CLINICAL_VIEW),
        },
    )


def _staff_action(request, appointment_id, act):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        appointment = selectors.appointment_get_for_user(
            user=request.user, appointment_id=appointment_id
        )
    except DomainError:
        raise Http404("No such appointment.") from None
    try:
        message = act(appointment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("scheduling:appointment-detail", appointment_id=appointment.pk)


@require_perm(Perm.APPOINTMENT_BOOK)
def appointment_check_in(request, appointment_id):
    def act(appointment):
        services.appointment_check_in(actor=request.user, appointment=appointment)
        return "Checked in: the patient is in the queue."

    return _staff_action(request, appointment_id, act)


@require_perm(Perm.APPOINTMENT_BOOK)
def appointment_no_show(request, appointment_id):
    def act(appointment):
        services.appointment_mark_no_show(actor=request.user, appointment=appointment)
        return "Recorded as a no-show."

    return _staff_action(request, appointment_id, act)


@require_perm(Perm.APPOINTMENT_BOOK)
def appointment_cancel(request, appointment_id):
    def act(appointment):
        form = CancelForm(request.POST)
        if not form.is_valid():
            raise DomainError("Give a reason for cancelling.")
        services.appointment_cancel(
            actor=request.user, appointment=appointment, reason=form.cleaned_data["reason"]
        )
        return "Cancelled."

    return _staff_action(request, appointment_id, act)


@require_perm(Perm.APPOINTMENT_BOOK)
def appointment_reschedule(request, appointment_id):
    def act(appointment):
        start = _moment(request.POST.get("start"))
        if start is None:
            raise DomainError("Choose a new time.")
        moved = services.appointment_reschedule(
            actor=request.user, appointment=appointment, start=start
        )
        return f"Moved to {timezone.localtime(moved.start):%a %d %b %H:%M}."

    return _staff_action(request, appointment_id, act)


@require_perm(Perm.APPOINTMENT_VIEW)
def rebooking_list(request):
    """Appointments that a schedule change left outside working hours: call and rebook them."""
    appointments = list(
        selectors.appointments_search(user=request.user, start=timezone.now()).filter(
            needs_rebooking=True, status=S.BOOKED
        )
    )
    selectors.appointments_audit_shown(user=request.user, appointments=appointments)
    return render(request, "scheduling/rebooking.html", {"appointments": appointments})


# --- Staff: the queue ------------------------------------------------------------------------


@require_perm(Perm.APPOINTMENT_VIEW)
def queue_home(request):
    """The menu's "Queue": the user's own department (a doctor's schedule), else the first."""
    own = Schedule.objects.filter(practitioner=request.user).values_list("department_id", flat=True)
    department_id = own.first() or (
        Department.objects.filter(is_active=True).values_list("pk", flat=True).first()
    )
    if department_id is None:
        raise Http404("No department has a queue yet.")
    return redirect("scheduling:queue", department_id=department_id)


@require_perm(Perm.APPOINTMENT_VIEW)
def queue(request, department_id):
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise Http404("No such department.")
    context = {
        "department": department,
        "entries": selectors.department_queue(user=request.user, department_id=department.pk),
        "departments": Department.objects.filter(is_active=True),
    }
    if request.htmx:
        return render(request, "scheduling/_queue.html", context)
    return render(request, "scheduling/queue.html", context)


# --- Schedules -------------------------------------------------------------------------------


@require_perm(Perm.SCHEDULE_MANAGE)
def schedule_list(request):
    schedules = Schedule.objects.select_related("practitioner", "department").prefetch_related(
        "hours"
    )
    doctors_without = (
        User.objects.filter(role=Role.DOCTOR, is_active=True, schedule__isnull=True)
        .select_related("staff_profile")
        .order_by("family_name")
    )
    if request.method == "POST":
        doctor = doctors_without.filter(pk=_id(request.POST.get("practitioner")) or 0).first()
        if doctor is not None:
            try:
                schedule = services.schedule_ensure(actor=request.user, practitioner=doctor)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                return redirect("scheduling:schedule-edit", schedule_id=schedule.pk)
    return render(
        request,
        "scheduling/schedule_list.html",
        {"schedules": schedules, "doctors_without": doctors_without},
    )


def _flag_message(request, flagged) -> None:
    if flagged:
        messages.warning(
            request,
            f"{len(flagged)} booked appointment(s) are now outside working hours. They are kept "
            "and listed for rebooking.",
        )


def _schedule_or_404(schedule_id) -> Schedule:
    schedule = selectors.schedule_get(schedule_id=schedule_id)
    if schedule is None:
        raise Http404("No such schedule.")
    return schedule


def _schedule_page(request, schedule, status=200, **bound):
    return render(
        request,
        "scheduling/schedule_edit.html",
        {
            "hours_form": WorkingHoursForm(prefix="hours"),
            "exception_form": ExceptionForm(prefix="exc"),
            **selectors.schedule_page_data(user=request.user, schedule=schedule),
            **bound,
        },
        status=status,
    )


@require_perm(Perm.SCHEDULE_MANAGE)
def schedule_edit(request, schedule_id):
    return _schedule_page(request, _schedule_or_404(schedule_id))


def _schedule_write(request, schedule_id, *, write, form_class=None, prefix="", form_key=""):
    """POST one change of the schedule page: back to the page (with a warning when booked
    appointments fall outside working time), or the page again with the form's errors."""
    schedule = _schedule_or_404(schedule_id)
    form = form_class(request.POST, prefix=prefix) if form_class else None
    if form is not None and not form.is_valid():
        return _schedule_page(request, schedule, status=400, **{form_key: form})
    try:
        _flag_message(request, write(schedule, form.cleaned_data if form else None))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("scheduling:schedule-edit", schedule_id=schedule.pk)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def schedule_hours_add(request, schedule_id):
    def write(schedule, data):
        return services.working_hours_add(actor=request.user, schedule=schedule, **data)[1]

    return _schedule_write(
        request, schedule_id, write=write, form_class=WorkingHoursForm, prefix="hours",
        form_key="hours_form",
    )  # fmt: skip


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def schedule_hours_remove(request, schedule_id):
    def write(schedule, _):
        session = schedule.hours.filter(pk=_id(request.POST.get("id")) or 0).first()
        if session is None:
            return []
        return services.working_hours_remove(actor=request.user, session=session)

    return _schedule_write(request, schedule_id, write=write)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def schedule_exception_add(request, schedule_id):
    def write(schedule, data):
        return services.schedule_exception_add(actor=request.user, schedule=schedule, **data)[1]

    return _schedule_write(
        request, schedule_id, write=write, form_class=ExceptionForm, prefix="exc",
        form_key="exception_form",
    )  # fmt: skip


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def schedule_exception_remove(request, schedule_id):
    def write(schedule, _):
        exception = schedule.exceptions.filter(pk=_id(request.POST.get("id")) or 0).first()
        if exception is None:
            return []
        return services.schedule_exception_remove(actor=request.user, exception=exception)

    return _schedule_write(request, schedule_id, write=write)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def schedule_feed_rotate(request, schedule_id):
    def write(schedule, _):
        services.schedule_rotate_calendar_token(actor=request.user, schedule=schedule)
        messages.success(request, "The calendar address was changed.")
        return []

    return _schedule_write(request, schedule_id, write=write)


# --- Portal ----------------------------------------------------------------------------------


def _own_record(request):
    patient = patient_of_user(request.user)
    if patient is None:
        raise Http404("Your account has no patient record yet.")
    return patient


def _own_appointment(request, appointment_id) -> Appointment:
    try:
        return selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
    except DomainError:
        raise Http404("No such appointment.") from None


@require_perm(Perm.PORTAL_USE)
def portal_appointments(request):
    page = selectors.portal_appointments_for(user=request.user)
    return render(
        request,
        "scheduling/portal_appointments.html",
        {
            **vars(page),
            "appointment_rows": _appointment_rows(page),
            "notices": recent_notices(request.user, limit=10),
            "cancel_form": PortalCancelForm(),
        },
    )


ROWS_TEMPLATE = "scheduling/_portal_appointment_rows.html"
ROWS_SECONDS = 300  # as long as the data they show (hms/core/patient_cache.py)


def _appointment_rows(page: selectors.PortalAppointments) -> str:
    """The page's list of appointments, rendered once per version of the patient's data: the
    dates, links and labels of every row cost more than the rest of the page. Which rows are
    still coming changes with the time, so their number is part of the key."""
    rows = {"upcoming": page.upcoming, "past": page.past}
    if page.version is None:
        return render_to_string(ROWS_TEMPLATE, rows)
    key = f"hms:portal-appointment-rows:{page.patient.pk}:{page.version}:{len(page.upcoming)}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(ROWS_TEMPLATE, rows)
        cache.set(key, html, ROWS_SECONDS)
    return html


def _doctor_cards(practitioners, days: int = 14, per_doctor: int = 6) -> list[dict]:
    now = timezone.now()
    ids = [p.pk for p in practitioners]
    slots = (
        free_slots(
            start=now, end=now + timedelta(days=days), practitioner_ids=ids, online_only=True
        )
        if ids
        else []
    )
    by_doctor: dict[int, list] = {pk: [] for pk in ids}
    for slot in slots:
        if len(by_doctor[slot.practitioner_id]) < per_doctor:
            by_doctor[slot.practitioner_id].append(slot)
    return [{"doctor": p, "slots": by_doctor[p.pk]} for p in practitioners]


@require_perm(Perm.PORTAL_USE)
def portal_find(request):
    form = FindDoctorForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    department = filters.get("department")
    practitioners = list(
        selectors.practitioners_search(
            department_id=department.pk if department else None,
            specialty=filters.get("specialty", ""),
            q=filters.get("q", ""),
            online_only=True,
        )[:30]
    )
    return render(
        request,
        "scheduling/portal_find.html",
        {"form": form, "cards": _doctor_cards(practitioners)},
    )


@require_perm(Perm.PORTAL_USE)
def portal_doctor(request, practitioner_id):
    """One doctor's free slots for a week, to book or to move an appointment into."""
    practitioner = (
        selectors.practitioners_search(online_only=True).filter(pk=practitioner_id).first()
    )
    if practitioner is None:
        raise Http404("No such doctor.")
    patient = _own_record(request)
    moving = None
    if request.GET.get("move"):
        moving = _own_appointment(request, request.GET["move"])
        if moving.practitioner_id != practitioner.pk:
            raise Http404("No such appointment.")
    day = max(_day_from(request), timezone.localdate())
    start = selectors.local_midnight(day)
    slots = free_slots(
        start=start,
        end=start + timedelta(days=7),
        practitioner_ids=[practitioner.pk],
        for_patient=patient,
        online_only=True,
    )
    days: dict = {}
    for slot in slots:
        days.setdefault(timezone.localtime(slot.start, local_zone()).date(), []).append(slot)
    return render(
        request,
        "scheduling/portal_doctor.html",
        {
            "doctor": practitioner,
            "days": days,
            "moving": moving,
            "day": day,
            "next_day": day + timedelta(days=7),
            "prev_day": day - timedelta(days=7) if day > timezone.localdate() else None,
        },
    )


@require_perm(Perm.PORTAL_USE)
def portal_book(request):
    """Booking in three steps, never one tap: a time (chosen on the doctor's page), what the
    visit is for, then a summary (doctor, place, time, length, what to bring) to confirm."""
    patient = _own_record(request)
    data = request.POST if request.method == "POST" else request.GET
    practitioner = (
        selectors.practitioners_search(online_only=True)
        .filter(pk=_id(data.get("practitioner")) or 0)
        .first()
    )
    start = _moment(data.get("start"))
    if practitioner is None or start is None:
        messages.error(request, "Choose a doctor and a time.")
        return redirect("scheduling:portal-find")
    form = PortalBookForm(
        data if request.method == "POST" or data.get("step") == "summary" else None,
        department_id=practitioner.schedule.department_id,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_book_as(
                actor=request.user,
                practitioner=practitioner,
                start=start,
                service=form.cleaned_data.get("service"),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("scheduling:portal-doctor", practitioner_id=practitioner.pk)
        messages.success(
            request,
            f"Booked with {practitioner.full_name} on "
            f"{timezone.localtime(start, local_zone()):%a %d %b at %H:%M}.",
        )
        return redirect("scheduling:portal-appointments")
    slot = slot_lookup(
        practitioner_id=practitioner.pk, start=start, for_patient=patient, online_only=True
    )
    if slot is None:
        messages.error(request, "That time is no longer free: please choose another.")
        return redirect("scheduling:portal-doctor", practitioner_id=practitioner.pk)
    return render(
        request,
        "scheduling/portal_book.html",
        {
            "doctor": practitioner,
            "slot": slot,
            "form": form,
            "confirming": form.is_bound and form.is_valid(),
            "slot_minutes": int((slot.end - slot.start).total_seconds() // 60),
        },
    )


@require_perm(Perm.PORTAL_USE)
@require_POST
def portal_reschedule(request, appointment_id):
    appointment = _own_appointment(request, appointment_id)
    start = _moment(request.POST.get("start"))
    try:
        if start is None:
            raise DomainError("Choose a new time.")
        moved = services.appointment_reschedule(
            actor=request.user, appointment=appointment, start=start
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:portal-appointments")
    messages.success(
        request, f"Moved to {timezone.localtime(moved.start, local_zone()):%a %d %b at %H:%M}."
    )
    return redirect("scheduling:portal-appointments")


@require_perm(Perm.PORTAL_USE)
@require_POST
def portal_cancel(request, appointment_id):
    appointment = _own_appointment(request, appointment_id)
    form = PortalCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.appointment_cancel(actor=request.user, appointment=appointment, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your appointment was cancelled.")
    return redirect("scheduling:portal-appointments")


@require_perm(Perm.PORTAL_USE)
@require_POST
def portal_reminders(request):
    patient = _own_record(request)
    services.reminder_opt_out_set(
        actor=request.user, patient=patient, opted_out=request.POST.get("opt_out") == "1"
    )
    messages.success(request, "Your reminder preference was saved.")
    return redirect("scheduling:portal-appointments")


@require_perm(Perm.PORTAL_USE)
@require_POST
def portal_waitlist_join(request):
    patient = _own_record(request)
    practitioner = (
        selectors.practitioners_search()
        .filter(pk=_id(request.POST.get("practitioner")) or 0)
        .first()
    )
    if practitioner is None:
        raise Http404("No such doctor.")
    services.waitlist_join(
        actor=request.user,
        patient=patient,
        department=practitioner.schedule.department,
        practitioner=practitioner,
    )
    messages.success(request, "You are on the waiting list: we will offer you an earlier slot.")
    return redirect("scheduling:portal-appointments")


@require_perm(Perm.APPOINTMENT_BOOK)
def waitlist(request):
    """Reception's view of who waits for an earlier slot, and a form to add a patient."""
    form = StaffWaitlistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = form.cleaned_data["mrn"]
        try:
            services.waitlist_join(
                actor=request.user,
                patient=patient,
                department=form.cleaned_data["department"],
                practitioner=form.cleaned_data["practitioner"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{patient.full_name} is on the waiting list.")
            return redirect("scheduling:waitlist")
    return render(
        request,
        "scheduling/waitlist.html",
        {"form": form, "entries": selectors.waitlist_open(user=request.user)},
    )


@require_perm(Perm.PORTAL_USE)
@require_POST
def portal_offer_decline(request, entry_id):
    patient = _own_record(request)
    entry = WaitlistEntry.objects.filter(pk=entry_id, patient=patient).first()
    if entry is None:
        raise Http404("No such offer.")
    services.waitlist_release_offer(entry=entry, actor=request.user)
    messages.info(request, "The slot was passed on. You stay on the waiting list.")
    return redirect("scheduling:portal-appointments")


def _ics_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_perm(Perm.PORTAL_USE)
def portal_ics(request, appointment_id):
    appointment = _own_appointment(request, appointment_id)
    text = ical.calendar(
        [ical.appointment_event(appointment, for_practitioner=False)], name="My appointment"
    )
    return _ics_response(text, "appointment.ics")


# --- Public ----------------------------------------------------------------------------------


@public
def public_doctors(request):
    """Departments and their doctors, each with the next day that has a free slot."""
    practitioners = list(selectors.practitioners_search(online_only=True))
    nxt = next_free_slots([p.pk for p in practitioners], online_only=True)
    departments: dict = {}
    for p in practitioners:
        slot = nxt.get(p.pk)
        departments.setdefault(p.schedule.department, []).append(
            {"doctor": p, "next_day": timezone.localtime(slot.start).date() if slot else None}
        )
    return render(
        request,
        "scheduling/public_doctors.html",
        {"departments": sorted(departments.items(), key=lambda item: item[0].name)},
    )


@public
def calendar_feed(request, token):
    """A practitioner's appointments as an iCalendar feed; the address itself is the secret."""
    schedule = selectors.schedule_by_calendar_token(token)
    if schedule is None:
        raise Http404("No such calendar.")
    appointments = selectors.calendar_feed_appointments(schedule=schedule)
    text = ical.calendar(
        [ical.appointment_event(a, for_practitioner=True) for a in appointments],
        name=f"Appointments of {schedule.practitioner.full_name}",
    )
    return _ics_response(text, "appointments.ics")
