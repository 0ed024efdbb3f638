from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.models import Appointment, AppointmentStatus
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory, weekly_schedule

pytestmark = pytest.mark.django_db


def _book(make_user, doctor, start, patient=None):
    return services.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=patient or PatientFactory(),
        practitioner=doctor,
        start=start,
    )


def test_the_department_week_calendar_loads_in_a_bounded_number_of_queries(
    client_for, make_user, django_assert_max_num_queries
):
    schedules = [weekly_schedule() for _ in range(3)]
    for schedule in schedules[1:]:
        schedule.department = schedules[0].department
        schedule.save()
    for n, schedule in enumerate(schedules):
        _book(make_user, schedule.practitioner, at(2, 10 + n))
    client = client_for(Role.RECEPTIONIST)
    url = reverse("scheduling:calendar")
    query = {"department": schedules[0].department_id, "view": "week", "day": at(2, 0).date()}
    with django_assert_max_num_queries(25):
        response = client.get(url, query)
    assert response.status_code == 200
    assert response.content.count(b"free") > 20


def test_the_calendar_partial_answers_htmx_requests(client_for, doctor):
    client = client_for(Role.RECEPTIONIST)
    response = client.get(
        reverse("scheduling:calendar"), {"practitioner": doctor.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content


def test_earlier_and_later_move_the_form_s_date_with_the_day_shown(client_for, doctor):
    """Earlier / Later swap only the calendar: the date field above it is swapped out of band,
    so that choosing another doctor afterwards stays on the day being looked at."""
    client = client_for(Role.RECEPTIONIST)
    day = at(3, 0).date().isoformat()
    query = {"practitioner": doctor.pk, "day": day}
    partial = client.get(reverse("scheduling:calendar"), query, HTTP_HX_REQUEST="true")
    assert f'id="cal-day" name="day" value="{day}" hx-swap-oob="true"'.encode() in partial.content
    page = client.get(reverse("scheduling:calendar"), query).content.decode()
    assert page.count('id="cal-day"') == 1 and f'value="{day}"' in page
    assert "hx-swap-oob" not in page


def test_a_receptionist_books_from_the_calendar_by_mrn(client_for, doctor):
    patient = PatientFactory()
    client = client_for(Role.RECEPTIONIST)
    url = reverse("scheduling:book") + f"?practitioner={doctor.pk}&start={at(2, 10).isoformat()}"
    response = client.post(url, {"mrn": patient.mrn, "reason": "Cough"})
    appointment = Appointment.objects.get(patient=patient)
    assert response.status_code == 302
    assert appointment.start == at(2, 10)


def test_the_booking_form_takes_the_mrn_as_printed_with_its_dash(client_for, doctor):
    patient = PatientFactory()
    printed = f"{patient.mrn[:8]}-{patient.mrn[8]}"
    client = client_for(Role.RECEPTIONIST)
    url = reverse("scheduling:book") + f"?practitioner={doctor.pk}&start={at(2, 10).isoformat()}"
    response = client.post(url, {"mrn": printed})
    assert response.status_code == 302
    assert Appointment.objects.filter(patient=patient).exists()


def test_a_malformed_practitioner_id_is_not_found_not_a_server_error(client_for):
    client = client_for(Role.DOCTOR)
    response = client.get(reverse("scheduling:book"), {"practitioner": "abc", "start": "x"})
    assert response.status_code == 404


def test_a_walk_in_without_a_known_doctor_asks_which_doctor(client_for, doctor):
    response = client_for(Role.RECEPTIONIST).get(
        reverse("scheduling:overbook"), {"practitioner": "abc"}
    )
    assert response.status_code == 200
    assert b'name="practitioner"' in response.content
    assert doctor.full_name.encode() in response.content


def test_booking_a_taken_slot_in_the_form_shows_a_message(client_for, make_user, doctor):
    _book(make_user, doctor, at(2, 10))
    client = client_for(Role.RECEPTIONIST)
    url = reverse("scheduling:book") + f"?practitioner={doctor.pk}&start={at(2, 10).isoformat()}"
    response = client.post(url, {"mrn": PatientFactory().mrn})
    assert response.status_code == 200
    assert b"has just been taken" in response.content or b"not a free slot" in response.content


def test_the_queue_lists_checked_in_patients_in_arrival_order(client_for, make_user):
    schedule = weekly_schedule(start=time(0, 0), end=time(23, 45))
    doctor = schedule.practitioner
    clerk = make_user(Role.RECEPTIONIST)
    now = timezone.now()
    from hms.scheduling.slots import free_slots

    slots = free_slots(start=now, end=now + timedelta(hours=3), practitioner_ids=[doctor.pk])
    slots = [s for s in slots if timezone.localtime(s.start).date() == timezone.localdate()]
    if len(slots) < 2:
        pytest.skip("too close to midnight for two slots today")
    late = services.appointment_book(
        actor=clerk, patient=PatientFactory(given_name="Zed"), practitioner=doctor,
        start=slots[0].start,
    )  # fmt: skip
    early = services.appointment_book(
        actor=clerk, patient=PatientFactory(given_name="Amy"), practitioner=doctor,
        start=slots[1].start,
    )  # fmt: skip
    services.appointment_check_in(actor=clerk, appointment=early)
    services.appointment_check_in(actor=clerk, appointment=late)
    client = client_for(Role.NURSE)
    response = client.get(
        reverse("scheduling:queue", args=[schedule.department_id]),
        HTTP_HX_REQUEST="true",
        HTTP_X_BACKGROUND_REFRESH="1",
    )
    body = response.content.decode()
    assert body.index("Amy") < body.index("Zed")


def test_the_queue_page_polls_with_the_background_refresh_header(client_for, schedule):
    response = client_for(Role.NURSE).get(
        reverse("scheduling:queue", args=[schedule.department_id])
    )
    assert b'hx-trigger="every 15s"' in response.content
    assert b"X-Background-Refresh" in response.content


def test_a_patient_books_reschedules_and_cancels_in_the_portal(client_for, doctor):
    me = PortalPatientFactory()
    client = client_for(user=me.user)
    response = client.post(
        reverse("scheduling:portal-book"),
        {"practitioner": doctor.pk, "start": at(2, 10).isoformat(), "reason": "Rash"},
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient=me)
    client.post(
        reverse("scheduling:portal-reschedule", args=[appointment.pk]),
        {"start": at(2, 11).isoformat()},
    )
    appointment.refresh_from_db()
    assert appointment.start == at(2, 11)
    client.post(reverse("scheduling:portal-cancel", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_patient_cannot_cancel_another_patients_appointment(client_for, make_user, doctor):
    theirs = _book(make_user, doctor, at(2, 10))
    me = PortalPatientFactory()
    response = client_for(user=me.user).post(reverse("scheduling:portal-cancel", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED


def test_a_patient_cannot_download_another_patients_ics(client_for, make_user, doctor):
    theirs = _book(make_user, doctor, at(2, 10))
    me = PortalPatientFactory()
    response = client_for(user=me.user).get(reverse("scheduling:portal-ics", args=[theirs.pk]))
    assert response.status_code == 404


def test_the_cutoff_message_is_shown_when_a_patient_cancels_too_late(client_for, settings):
    settings.APPOINTMENT_CANCEL_CUTOFF_HOURS = 48
    doctor = weekly_schedule().practitioner
    me = PortalPatientFactory()
    client = client_for(user=me.user)
    client.post(
        reverse("scheduling:portal-book"),
        {"practitioner": doctor.pk, "start": at(1, 10).isoformat()},
    )
    appointment = Appointment.objects.get(patient=me)
    response = client.post(reverse("scheduling:portal-cancel", args=[appointment.pk]), follow=True)
    assert b"up to 48 hours before" in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_my_appointments_lists_only_my_own(client_for, make_user, doctor):
    mine = PortalPatientFactory(given_name="Mina")
    _book(make_user, doctor, at(2, 10), patient=mine)
    _book(make_user, doctor, at(2, 11), patient=PatientFactory(family_name="Otherperson"))
    response = client_for(user=mine.user).get(reverse("scheduling:portal-appointments"))
    assert response.content.count(b'class="list-group-item appointment"') == 1


def test_the_public_page_lists_doctors_with_their_next_free_day(client, doctor):
    response = client.get(reverse("scheduling:public-doctors"))
    assert response.status_code == 200
    assert doctor.family_name.encode() in response.content
    assert b"Next free" in response.content


def test_the_practitioner_feed_needs_the_secret_token(client, make_user, doctor):
    _book(make_user, doctor, at(2, 10))
    assert client.get(reverse("scheduling:calendar-feed", args=["x" * 43])).status_code == 404
    response = client.get(
        reverse("scheduling:calendar-feed", args=[doctor.schedule.calendar_token])
    )
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 1


def test_ical_text_is_escaped_and_folded_and_reads_back_unchanged():
    from icalendar import Calendar

    from hms.scheduling import ical

    summary = "a;b,c\\d\ne" + "é" * 80
    start = at(2, 10)
    text = ical.calendar(
        [{"uid": "u@hms", "start": start, "end": start, "summary": summary}], name="Dr A, B; C"
    )
    assert "SUMMARY:a\\;b\\,c\\\\d\\ne" in text
    assert "X-WR-CALNAME:Dr A\\, B\\; C\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (event,) = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == summary
    assert event.decoded("DTSTART") == start


def test_removing_working_hours_lists_booked_appointments_for_rebooking(make_user, doctor):
    appointment = _book(make_user, doctor, at(2, 10))
    admin = make_user(Role.ADMIN)
    session = doctor.schedule.hours.get(weekday=at(2, 10).weekday())
    flagged = services.working_hours_remove(actor=admin, session=session)
    assert [a.pk for a in flagged] == [appointment.pk]
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == AppointmentStatus.BOOKED


def test_leave_removes_slots_and_flags_appointments_in_it(make_user, doctor):
    appointment = _book(make_user, doctor, at(2, 10))
    _, flagged = services.schedule_exception_add(
        actor=make_user(Role.ADMIN), schedule=doctor.schedule, kind="leave",
        start=at(2, 0), end=at(3, 0),
    )  # fmt: skip
    assert [a.pk for a in flagged] == [appointment.pk]
    from hms.scheduling.slots import free_slots

    assert free_slots(start=at(2, 0), end=at(3, 0), practitioner_ids=[doctor.pk]) == []


def test_an_extra_session_adds_slots(make_user):
    schedule = weekly_schedule(days=[])
    services.schedule_exception_add(
        actor=make_user(Role.ADMIN), schedule=schedule, kind="extra",
        start=at(2, 18), end=at(2, 19), slot_minutes=20,
    )  # fmt: skip
    from hms.scheduling.slots import free_slots

    starts = [s.start for s in free_slots(start=at(2, 0), end=at(3, 0))]
    assert starts == [at(2, 18), at(2, 18, 20), at(2, 18, 40)]


def test_a_break_leaves_a_gap_in_the_slots(make_user):
    schedule = weekly_schedule(start=time(9, 0), end=time(11, 0), slot=30)
    schedule.hours.update(break_start=time(10, 0), break_end=time(10, 30))
    from hms.scheduling.slots import free_slots

    starts = [s.start for s in free_slots(start=at(2, 0), end=at(3, 0))]
    assert starts == [at(2, 9), at(2, 9, 30), at(2, 10, 30)]


def test_the_chart_section_loads_in_one_query_whatever_the_history(
    make_user, doctor, django_assert_num_queries
):
    from hms.scheduling.chart import load_appointments

    patient = PatientFactory()
    for day in range(2, 6):
        _book(make_user, doctor, at(day, 10), patient=patient)
    with django_assert_num_queries(1):
        loaded = load_appointments(patient=patient)
    assert len(loaded["upcoming"]) == 4


def test_a_doctor_books_a_walk_in_which_is_marked_and_queued(client_for, doctor):
    patient = PatientFactory()
    client = client_for(Role.DOCTOR)
    response = client.post(
        reverse("scheduling:overbook"),
        {"practitioner": doctor.pk, "mrn": patient.mrn, "kind": "walk_in"},
    )
    appointment = Appointment.objects.get(patient=patient)
    assert response.status_code == 302
    assert appointment.overbooked and appointment.status == AppointmentStatus.CHECKED_IN
    page = client.get(reverse("scheduling:appointment-detail", args=[appointment.pk]))
    assert b"Walk-in" in page.content


def test_a_receptionist_books_a_walk_in_but_not_an_urgent_overbooking(client_for, doctor):
    client = client_for(Role.RECEPTIONIST)
    url = reverse("scheduling:overbook") + f"?practitioner={doctor.pk}"
    form = client.get(url)
    assert b'value="walk_in"' in form.content and b'value="urgent"' not in form.content
    patient, other = PatientFactory(), PatientFactory()
    refused = client.post(url, {"practitioner": doctor.pk, "mrn": other.mrn, "kind": "urgent"})
    assert refused.status_code == 200 and not Appointment.objects.filter(patient=other).exists()
    booked = client.post(
        url, {"practitioner": doctor.pk, "mrn": patient.mrn_display, "kind": "walk_in"}
    )
    assert booked.status_code == 302
    walk_in = Appointment.objects.get(patient=patient)
    assert walk_in.overbooked and walk_in.status == AppointmentStatus.CHECKED_IN


def test_a_nurse_may_not_book_walk_ins(client_for, doctor):
    url = reverse("scheduling:overbook") + f"?practitioner={doctor.pk}"
    assert client_for(Role.NURSE).get(url).status_code == 403


def test_staff_cancel_from_the_appointment_page_with_a_reason(client_for, make_user, doctor):
    appointment = _book(make_user, doctor, at(2, 10))
    client = client_for(Role.RECEPTIONIST)
    client.post(reverse("scheduling:appointment-cancel", args=[appointment.pk]), {"reason": ""})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    client.post(
        reverse("scheduling:appointment-cancel", args=[appointment.pk]), {"reason": "Doctor ill"}
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Doctor ill"


def test_adding_leave_in_the_schedule_page_warns_about_appointments_to_rebook(
    client_for, make_user, doctor
):
    _book(make_user, doctor, at(2, 10))
    client = client_for(Role.ADMIN)
    response = client.post(
        reverse("scheduling:schedule-exception-add", args=[doctor.schedule.pk]),
        {
            "exc-kind": "leave",
            "exc-start": at(2, 0).strftime("%Y-%m-%dT%H:%M"),
            "exc-end": at(3, 0).strftime("%Y-%m-%dT%H:%M"),
            "exc-slot_minutes": 15,
        },
        follow=True,
    )
    assert b"outside working hours" in response.content
    assert Appointment.objects.get().needs_rebooking


def test_queue_polling_does_not_count_as_staff_activity(client_for, schedule):
    import time as time_module

    from hms.accounts.middleware import LAST_ACTIVITY

    client = client_for(Role.NURSE)
    url = reverse("scheduling:queue", args=[schedule.department_id])
    client.get(url)
    session = client.session
    a_minute_ago = time_module.time() - 60
    session[LAST_ACTIVITY] = a_minute_ago
    session.save()
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_X_BACKGROUND_REFRESH="1")
    assert response.status_code == 200
    assert client.session[LAST_ACTIVITY] == a_minute_ago
