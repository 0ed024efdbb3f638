import pytest
from django.utils import timezone
from rest_framework.serializers import ModelSerializer

from hms.accounts.models import User
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.api import AppointmentOut
from hms.scheduling.models import Appointment, BookingKind
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import (
    PatientFactory,
    PortalPatientFactory,
    ServiceFactory,
    weekly_schedule,
)

pytestmark = pytest.mark.django_db


def test_free_slots_are_listed_with_practitioner_start_and_end(client_for, doctor):
    client = client_for(Role.RECEPTIONIST)
    response = client.get(
        "/api/v1/slots/",
        {"practitioner": doctor.pk, "start": at(2, 9).isoformat(), "end": at(2, 10).isoformat()},
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 4
    assert body[0]["practitioner"] == str(doctor.pk)
    assert {"start", "end", "location", "department"} <= set(body[0])


def test_a_bad_slot_range_is_a_400_not_a_500(client_for):
    response = client_for(Role.RECEPTIONIST).get("/api/v1/slots/", {"start": "yesterday"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["start"]


def test_booking_answers_201_then_409_slot_taken(client_for, doctor):
    client = client_for(Role.RECEPTIONIST)
    body = {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk),
            "start": at(2, 10).isoformat()}  # fmt: skip
    first = client.post("/api/v1/appointments/", body, content_type="application/json")
    assert first.status_code == 201
    assert first.json()["status"] == "booked"
    body["patient"] = str(PatientFactory().pk)
    second = client.post("/api/v1/appointments/", body, content_type="application/json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "slot_taken"


def test_booking_names_a_doctor_with_a_schedule_or_is_refused(client_for, doctor, make_user):
    client = client_for(Role.RECEPTIONIST)
    body = {"patient": str(PatientFactory().pk), "start": at(2, 10).isoformat()}
    retired = weekly_schedule().practitioner
    User.objects.filter(pk=retired.pk).update(is_active=False)
    for practitioner, status, code in [
        (make_user(Role.NURSE), 400, "invalid"),
        (make_user(Role.DOCTOR), 404, "no_schedule"),
        (retired, 409, "slot_taken"),
    ]:
        response = client.post(
            "/api/v1/appointments/", {**body, "practitioner": str(practitioner.pk)},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == status, practitioner.role
        assert response.json()["error"]["code"] == code
    unknown = {**body, "practitioner": "999999"}
    response = client.post("/api/v1/appointments/", unknown, content_type="application/json")
    assert response.json()["error"]["fields"] == {"practitioner": "No such practitioner."}
    ok = client.post("/api/v1/appointments/", {**body, "practitioner": str(doctor.pk)},
                     content_type="application/json")  # fmt: skip
    assert ok.status_code == 201
    assert ok.json()["practitioner_name"] == doctor.full_name


def test_the_appointment_json_built_directly_is_what_the_declared_fields_give(make_user, doctor):
    clerk = make_user(Role.RECEPTIONIST)
    booked = services.appointment_book(
        actor=clerk, patient=PatientFactory(), practitioner=doctor, start=at(2, 10),
        service=ServiceFactory(department=doctor.schedule.department), reason="Follow-up",
    )  # fmt: skip
    walk_in = services.appointment_book(
        actor=make_user(Role.DOCTOR), patient=PatientFactory(middle_names="Ann"),
        practitioner=doctor, start=timezone.now(), kind=BookingKind.WALK_IN,
    )  # fmt: skip
    for appointment in (booked, walk_in, Appointment.objects.get(pk=booked.pk)):
        serializer = AppointmentOut(appointment)
        assert serializer.data == ModelSerializer.to_representation(serializer, appointment)
    assert walk_in.checked_in_at and booked.service_id  # both kinds of value were compared


def test_a_patient_token_books_for_itself_without_naming_the_patient(client_for, doctor):
    me = PortalPatientFactory()
    client = client_for(user=me.user)
    response = client.post(
        "/api/v1/appointments/",
        {"practitioner": str(doctor.pk), "start": at(2, 10).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["patient"] == str(me.pk)


def test_a_patient_token_can_never_book_for_another_patient(client_for, doctor):
    me = PortalPatientFactory()
    other = PatientFactory()
    response = client_for(user=me.user).post(
        "/api/v1/appointments/",
        {"patient": str(other.pk), "practitioner": str(doctor.pk), "start": at(2, 10).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_a_patient_sees_only_their_own_appointments(client_for, doctor):
    me, other = PortalPatientFactory(), PatientFactory()
    staff = client_for(Role.RECEPTIONIST)
    for patient, hour in ((me, 10), (other, 11)):
        staff.post(
            "/api/v1/appointments/",
            {"patient": str(patient.pk), "practitioner": str(doctor.pk),
             "start": at(2, hour).isoformat()},
            content_type="application/json",
        )  # fmt: skip
    theirs = Appointment.objects.get(patient=other)
    mine_client = client_for(user=me.user)
    listed = mine_client.get("/api/v1/appointments/").json()["results"]
    assert [a["patient"] for a in listed] == [str(me.pk)]
    assert mine_client.get(f"/api/v1/appointments/{theirs.pk}/").status_code == 404
    cancel = mine_client.post(f"/api/v1/appointments/{theirs.pk}/cancel/", {})
    assert cancel.status_code == 404


def test_reschedule_cancel_and_check_in_through_the_api(client_for, doctor, settings):
    settings.CHECK_IN_OPENS_HOURS_BEFORE = 3 * 24  # the booking is two days ahead
    client = client_for(Role.RECEPTIONIST)
    created = client.post(
        "/api/v1/appointments/",
        {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk),
         "start": at(2, 10).isoformat()},
        content_type="application/json",
    ).json()  # fmt: skip
    url = f"/api/v1/appointments/{created['id']}/"
    moved = client.post(url + "reschedule/", {"start": at(2, 11).isoformat()},
                        content_type="application/json")  # fmt: skip
    assert moved.status_code == 200 and moved.json()["start"].startswith(
        at(2, 11).date().isoformat()
    )
    checked = client.post(url + "check-in/")
    assert checked.json()["status"] == "checked_in"
    refused = client.post(url + "cancel/", {"reason": "x"}, content_type="application/json")
    assert refused.status_code == 409


def test_practitioners_carry_their_next_free_slot(client_for, doctor):
    response = client_for(Role.PATIENT).get("/api/v1/practitioners/")
    found = [p for p in response.json() if p["id"] == str(doctor.pk)][0]
    assert found["next_free_slot"]["practitioner"] == str(doctor.pk)


def test_replacing_working_hours_returns_appointments_to_rebook(client_for, doctor):
    client_for(Role.RECEPTIONIST).post(
        "/api/v1/appointments/",
        {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk),
         "start": at(2, 10).isoformat()},
        content_type="application/json",
    )  # fmt: skip
    admin = client_for(Role.ADMIN)
    response = admin.put(
        f"/api/v1/schedules/{doctor.schedule.pk}/working-hours/",
        {"hours": [{"weekday": 0, "start_time": "14:00", "end_time": "15:00", "slot_minutes": 15,
                    "location": "Room 2"}]},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200
    assert len(response.json()["needs_rebooking"]) == 1


def test_the_scheduling_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/slots/", "/api/v1/appointments/{id}/reschedule/",
                 "/api/v1/appointments/{id}/check-in/", "/api/v1/practitioners/",
                 "/api/v1/departments/", "/api/v1/schedules/"):  # fmt: skip
        assert path in schema
