"""An appointment lasts its service's duration, rounded up to whole slots, everywhere: the
booking, the slot lists, the portal, the API and the database's no-overlap rule."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from hms.core.errors import Conflict
from hms.core.permissions import Role
from hms.scheduling import services
from hms.scheduling.slots import free_slots
from hms.scheduling.tests.conftest import at
from hms.scheduling.tests.factories import PatientFactory, PortalPatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation(doctor):
    return ServiceFactory(
        department=doctor.schedule.department, name="First consultation", duration_minutes=30
    )


def _book(actor, doctor, start, service=None):
    return services.appointment_book(
        actor=actor, patient=PatientFactory(), practitioner=doctor, start=start, service=service
    )


def test_a_30_minute_service_on_15_minute_slots_books_half_an_hour(make_user, doctor, consultation):
    appointment = _book(make_user(Role.RECEPTIONIST), doctor, at(2, 9), consultation)
    assert (appointment.start, appointment.end) == (at(2, 9), at(2, 9, 30))


def test_a_service_length_is_rounded_up_to_whole_slots(make_user, doctor):
    twenty = ServiceFactory(department=doctor.schedule.department, duration_minutes=20)
    appointment = _book(make_user(Role.RECEPTIONIST), doctor, at(2, 9), twenty)
    assert appointment.end - appointment.start == timedelta(minutes=30)


def test_the_second_half_of_a_long_booking_is_neither_free_nor_bookable(
    make_user, doctor, consultation
):
    clerk = make_user(Role.RECEPTIONIST)
    _book(clerk, doctor, at(2, 9), consultation)
    starts = [slot.start for slot in free_slots(start=at(2, 9), end=at(2, 10))]
    assert starts == [at(2, 9, 30), at(2, 9, 45)]
    with pytest.raises(Conflict) as error:
        _book(clerk, doctor, at(2, 9, 15))
    assert error.value.code == "slot_taken"


def test_a_long_service_is_refused_where_only_one_slot_is_free(make_user, doctor, consultation):
    clerk = make_user(Role.RECEPTIONIST)
    _book(clerk, doctor, at(2, 9, 15))
    with pytest.raises(Conflict) as error:
        _book(clerk, doctor, at(2, 9), consultation)
    assert error.value.code == "slot_taken"


def test_a_long_service_may_not_run_past_the_end_of_the_session(make_user, doctor, consultation):
    with pytest.raises(Conflict):  # the weekly session ends at 17:00
        _book(make_user(Role.RECEPTIONIST), doctor, at(2, 16, 45), consultation)


def test_slot_lists_for_a_service_offer_only_starts_with_room_for_it(
    make_user, doctor, consultation
):
    _book(make_user(Role.RECEPTIONIST), doctor, at(2, 9, 30))
    slots = free_slots(start=at(2, 9), end=at(2, 10, 30), minutes=consultation.duration_minutes)
    assert [(s.start, s.end) for s in slots] == [
        (at(2, 9), at(2, 9, 30)),
        (at(2, 9, 45), at(2, 10, 15)),
        (at(2, 10), at(2, 10, 30)),
    ]


def test_moving_a_long_appointment_keeps_its_length_and_needs_room_for_it(
    make_user, doctor, consultation
):
    clerk = make_user(Role.RECEPTIONIST)
    appointment = _book(clerk, doctor, at(2, 9), consultation)
    _book(clerk, doctor, at(2, 11, 15))
    with pytest.raises(Conflict):
        services.appointment_reschedule(actor=clerk, appointment=appointment, start=at(2, 11))
    moved = services.appointment_reschedule(actor=clerk, appointment=appointment, start=at(2, 14))
    assert (moved.start, moved.end) == (at(2, 14), at(2, 14, 30))


def test_the_api_books_the_whole_interval_and_answers_409_inside_it(
    client_for, doctor, consultation
):
    client = client_for(Role.RECEPTIONIST)
    body = {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk),
            "start": at(2, 9).isoformat(), "service": str(consultation.pk)}  # fmt: skip
    first = client.post("/api/v1/appointments/", body, content_type="application/json")
    assert first.status_code == 201
    second = client.post(
        "/api/v1/appointments/",
        {"patient": str(PatientFactory().pk), "practitioner": str(doctor.pk),
         "start": at(2, 9, 15).isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "slot_taken"
    listed = client.get(
        "/api/v1/slots/",
        {"practitioner": doctor.pk, "service": consultation.pk,
         "start": at(2, 9).isoformat(), "end": at(2, 10, 30).isoformat()},
    ).json()  # fmt: skip
    first_free = listed[0]
    assert parse_datetime(first_free["start"]) == at(2, 9, 30)
    assert parse_datetime(first_free["end"]) == at(2, 10)


def test_the_api_refuses_an_unknown_service_in_the_slot_list(client_for, doctor):
    response = client_for(Role.RECEPTIONIST).get("/api/v1/slots/", {"service": "999999"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["service"]


def test_the_portal_does_not_offer_the_second_half_of_a_long_booking(
    client_for, make_user, doctor, consultation
):
    _book(make_user(Role.RECEPTIONIST), doctor, at(2, 9), consultation)
    me = PortalPatientFactory()
    page = client_for(user=me.user).get(
        reverse("scheduling:portal-doctor", args=[doctor.pk]), {"day": at(2, 9).date().isoformat()}
    )
    offered = [slot.start for slots in page.context["days"].values() for slot in slots]
    assert at(2, 9, 30) in offered
    assert at(2, 9) not in offered and at(2, 9, 15) not in offered
