"""Security review of scheduling: impossible dates and huge ids are refused, not crashes; the
feed token is checked in constant time; reads of appointment lists are audited by patient."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory
from hms.scheduling import selectors, services
from hms.scheduling.models import WaitlistEntry
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db
HUGE = "9" * 30


def _book(make_user, doctor, start, patient=None):
    return services.appointment_book(
        actor=make_user(Role.RECEPTIONIST),
        patient=patient or PatientFactory(),
        practitioner=doctor,
        start=start,
    )


@pytest.mark.parametrize(
    "query",
    [
        "day=2026-02-31",
        "day=2026-13-01&view=week",
        f"practitioner={HUGE}",
        f"department={HUGE}&view=week",
    ],
)
def test_the_staff_calendar_answers_impossible_dates_and_huge_ids_normally(client_for, query):
    response = client_for(Role.RECEPTIONIST).get(f"{reverse('scheduling:calendar')}?{query}")
    assert response.status_code == 200


def test_booking_with_an_impossible_start_is_a_404_not_a_crash(client_for, doctor):
    url = reverse("scheduling:book")
    response = client_for(Role.RECEPTIONIST).get(
        url, {"practitioner": doctor.pk, "start": "2026-02-31T10:00"}
    )
    assert response.status_code == 404


def test_a_portal_booking_with_a_junk_or_huge_doctor_id_is_refused_politely(client_for):
    patient = PortalPatientFactory()
    client = client_for(user=patient.user)
    for junk in ("abc", HUGE, "-1"):
        response = client.post(reverse("scheduling:portal-book"), {"practitioner": junk})
        assert response.status_code == 302
        response = client.post(reverse("scheduling:portal-waitlist-join"), {"practitioner": junk})
        assert response.status_code == 404


def test_a_portal_doctor_page_with_an_impossible_day_shows_this_week(client_for, doctor):
    patient = PortalPatientFactory()
    response = client_for(user=patient.user).get(
        reverse("scheduling:portal-doctor", args=[doctor.pk]), {"day": "2026-02-30"}
    )
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert all(day >= timezone.localdate() for day in response.context["days"])


def test_schedule_edits_with_a_junk_id_change_nothing(client_for, schedule):
    client = client_for(Role.ADMIN)
    for name in ("scheduling:schedule-hours-remove", "scheduling:schedule-exception-remove"):
        url = reverse(name, args=[schedule.pk])
        for junk in ("abc", HUGE):
            assert client.post(url, {"id": junk}).status_code == 302
    assert client.post(reverse("scheduling:schedule-list"), {"practitioner": "x"}).status_code in (
        200,
        302,
    )
    assert schedule.hours.count() == 7


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-02-31",
        "start=2026-02-31T10:00&end=2026-03-01",
        f"practitioner={HUGE}",
        f"department={HUGE}",
        "practitioner=-3",
    ],
)
def test_the_slot_api_answers_bad_dates_and_ids_with_400(client_for, query):
    response = client_for(Role.PATIENT).get(f"/api/v1/slots/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_the_feed_answers_its_token_and_nothing_close_to_it(client, doctor):
    token = doctor.schedule.calendar_token
    url = reverse("scheduling:calendar-feed", args=[token])
    assert client.get(url).status_code == 200
    near = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]
    assert client.get(reverse("scheduling:calendar-feed", args=[near])).status_code == 404
    assert client.get(reverse("scheduling:calendar-feed", args=[token[:31]])).status_code == 404
    assert client.get(reverse("scheduling:calendar-feed", args=[token + "x"])).status_code == 404


def test_the_feed_token_is_compared_in_constant_time(doctor):
    token = doctor.schedule.calendar_token
    with mock.patch(
        "hms.scheduling.selectors.hmac.compare_digest", wraps=__import__("hmac").compare_digest
    ) as compare:
        assert selectors.schedule_by_calendar_token(token) == doctor.schedule
    compare.assert_called()


def test_each_feed_fetch_is_audited(client, make_user, doctor):
    _book(make_user, doctor, at(2, 10))
    client.get(reverse("scheduling:calendar-feed", args=[doctor.schedule.calendar_token]))
    event = AuditEvent.objects.get(action="appointment.calendar_feed_view")
    assert event.details["appointments"] == 1


def test_a_patient_listing_their_appointments_leaves_an_audit_row_naming_them(
    client_for, make_user, doctor
):
    patient = PortalPatientFactory()
    _book(make_user, doctor, at(2, 10), patient=patient)
    client = client_for(user=patient.user)
    assert client.get("/api/v1/appointments/").status_code == 200
    assert client.get(reverse("scheduling:portal-appointments")).status_code == 200
    rows = AuditEvent.objects.filter(action="appointment.list", patient_ref=str(patient.pk))
    assert rows.count() == 2


def test_a_staff_list_of_appointments_is_audited_for_each_patient_shown(
    client_for, make_user, doctor
):
    first, second = PatientFactory(), PatientFactory()
    _book(make_user, doctor, at(2, 10), patient=first)
    _book(make_user, doctor, at(2, 11), patient=second)
    response = client_for(Role.RECEPTIONIST).get("/api/v1/appointments/")
    assert response.status_code == 200
    audited = set(
        AuditEvent.objects.filter(action="appointment.list_view").values_list(
            "patient_ref", flat=True
        )
    )
    assert audited == {str(first.pk), str(second.pk)}


def test_the_rebooking_list_is_audited_for_each_patient_shown(client_for, make_user, doctor):
    from hms.scheduling.models import Appointment

    appointment = _book(make_user, doctor, at(2, 10))
    Appointment.objects.filter(pk=appointment.pk).update(needs_rebooking=True)
    client_for(Role.RECEPTIONIST).get(reverse("scheduling:rebooking"))
    assert AuditEvent.objects.filter(
        action="appointment.list_view", patient_ref=str(appointment.patient_id)
    ).exists()


def test_a_patient_cannot_download_another_patients_ics(client_for, make_user, doctor):
    other = _book(make_user, doctor, at(2, 10))
    patient = PortalPatientFactory()
    client = client_for(user=patient.user)
    for name in ("portal-ics",):
        url = reverse(f"scheduling:{name}", args=[other.pk])
        assert client.get(url).status_code == 404
    for name in ("portal-cancel", "portal-reschedule"):
        url = reverse(f"scheduling:{name}", args=[other.pk])
        assert client.post(url, {"start": at(3, 10).isoformat()}).status_code == 404
    for action in ("cancel", "reschedule", "check-in"):
        response = client.post(f"/api/v1/appointments/{other.pk}/{action}/", {}, "application/json")
        assert response.status_code in (403, 404)
    assert client.get(f"/api/v1/appointments/?patient={other.patient_id}").status_code == 404
    assert client.get(f"/api/v1/appointments/{other.pk}/").status_code == 404
    listed = client.get("/api/v1/appointments/", {"practitioner": doctor.pk}).json()
    assert listed["count"] == 0
    url = reverse("scheduling:portal-doctor", args=[doctor.pk])
    assert client.get(url, {"move": str(other.pk)}).status_code == 404
    entry = WaitlistEntry.objects.create(
        patient=other.patient, department_id=doctor.schedule.department_id
    )
    url = reverse("scheduling:portal-offer-decline", args=[entry.pk])
    assert client.post(url).status_code == 404
    other.refresh_from_db()
    assert other.status == "booked"


def test_the_staff_calendar_audits_each_patient_it_shows(client_for, make_user, doctor):
    appointment = _book(make_user, doctor, at(2, 10))
    client = client_for(Role.RECEPTIONIST)
    client.get(reverse("scheduling:calendar"), {"practitioner": doctor.pk, "day": at(2, 0).date()})
    assert AuditEvent.objects.filter(
        action="appointment.list_view", patient_ref=str(appointment.patient_id)
    ).exists()


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00"])
def test_booking_or_moving_to_the_edge_of_the_calendar_is_a_400_not_a_crash(
    client_for, make_user, doctor, start
):
    appointment = _book(make_user, doctor, at(2, 10))
    client = client_for(Role.RECEPTIONIST)
    url = f"/api/v1/appointments/{appointment.pk}/reschedule/"
    response = client.post(url, {"start": start}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "out_of_range"
    body = {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk), "start": start}
    response = client.post("/api/v1/appointments/", body, content_type="application/json")
    assert response.status_code == 400
    portal = PortalPatientFactory()
    mine = _book(make_user, doctor, at(3, 10), patient=portal)
    response = client_for(user=portal.user).post(
        reverse("scheduling:portal-reschedule", args=[mine.pk]), {"start": start}
    )
    assert response.status_code == 302


def test_the_schedule_page_audits_the_patients_it_lists_for_rebooking(
    client_for, make_user, doctor
):
    from hms.scheduling.models import Appointment

    appointment = _book(make_user, doctor, at(2, 10))
    Appointment.objects.filter(pk=appointment.pk).update(needs_rebooking=True)
    response = client_for(Role.ADMIN).get(
        reverse("scheduling:schedule-edit", args=[doctor.schedule.pk])
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action="appointment.list_view", patient_ref=str(appointment.patient_id)
    ).exists()


def test_a_booking_with_a_stale_copy_of_a_just_merged_record_is_refused(make_user, doctor):
    from hms.core.errors import DomainError
    from hms.patients.services import patient_merge
    from hms.scheduling.models import Appointment

    stale = PatientFactory()
    patient_merge(actor=make_user(Role.ADMIN), survivor=PatientFactory(), duplicate=stale)
    assert stale.merged_into_id is None  # the caller's copy does not know yet
    with pytest.raises(DomainError):
        _book(make_user, doctor, at(2, 10), patient=stale)
    assert not Appointment.objects.filter(patient=stale).exists()


def test_the_patients_dashboard_audits_the_next_visit_it_shows(client_for, make_user, doctor):
    patient = PortalPatientFactory()
    appointment = _book(make_user, doctor, at(2, 10), patient=patient)
    assert client_for(user=patient.user).get(reverse("core:dashboard")).status_code == 200
    assert AuditEvent.objects.filter(
        action="appointment.view", object_id=str(appointment.pk), patient_ref=str(patient.pk)
    ).exists()
