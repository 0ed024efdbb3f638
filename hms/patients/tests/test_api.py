import datetime

import pytest

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import Patient
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/patients/"
NEW = {
    "given_name": "Jonathan",
    "family_name": "Smith",
    "birth_date": "1984-03-12",
    "sex": "male",
    "phone": "+44 7700 900123",
    "email": "jonathan@example.org",
}


def test_staff_search_patients_and_get_the_patient_contract(client_for):
    patient = PatientFactory(given_name="Zoë", family_name="O'Brien")
    response = client_for(Role.RECEPTIONIST).get(URL, {"q": "zoe obr"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(patient.pk) and row["mrn"] == patient.mrn
    for key in ("given_name", "family_name", "birth_date", "sex", "phone", "email"):
        assert key in row


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "call me maybe!!"), ("next_of_kin_phone", "++"), ("birth_date", "1899-12-31")],
)
def test_a_bad_phone_or_a_birth_date_before_1900_is_a_json_field_error(client_for, field, value):
    response = client_for(Role.RECEPTIONIST).post(
        URL, {**NEW, field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Patient.objects.exists()


def test_the_api_stores_a_phone_in_e164_and_finds_it_by_its_national_form(client_for):
    client = client_for(Role.RECEPTIONIST)
    created = client.post(URL, {**NEW, "phone": "07700 900555"}, content_type="application/json")
    assert created.json()["phone"] == "+447700900555"
    for query in ("07700 900555", "900555"):
        [row] = client.get(URL, {"q": query}).json()["results"]
        assert row["id"] == created.json()["id"]


def test_registering_returns_the_new_record_with_its_mrn(client_for):
    response = client_for(Role.RECEPTIONIST).post(
        URL,
        {**NEW, "identifiers": [{"system": "passport", "value": "X123"}]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["mrn"]) == 9 and body["identifiers"][0]["value"] == "X123"


def test_registering_the_same_person_with_a_typo_answers_409_with_the_match(client_for):
    existing = PatientFactory(
        given_name="Jonathan", family_name="Smith", birth_date=datetime.date(1984, 3, 12)
    )
    response = client_for(Role.RECEPTIONIST).post(
        URL, {**NEW, "given_name": "Jonathon"}, content_type="application/json"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "possible_duplicate"
    assert error["matches"][0]["id"] == str(existing.pk)
    assert Patient.objects.count() == 1


def test_a_confirmed_registration_goes_through_despite_a_match(client_for):
    PatientFactory(
        given_name="Jonathan", family_name="Smith", birth_date=datetime.date(1984, 3, 12)
    )
    response = client_for(Role.RECEPTIONIST).post(
        URL, {**NEW, "confirm_not_duplicate": True}, content_type="application/json"
    )
    assert response.status_code == 201
    assert Patient.objects.count() == 2


def test_bad_input_gets_field_errors_never_a_500(client_for):
    client = client_for(Role.RECEPTIONIST)
    for body in (
        {},
        {**NEW, "birth_date": "yesterday"},
        {**NEW, "birth_date": "2999-01-01"},
        {**NEW, "sex": "robot"},
        {**NEW, "identifiers": [{"system": "nope", "value": "1"}]},
        {**NEW, "mrn": "123", "confirm_not_duplicate": "maybe"},
    ):
        response = client.post(URL, body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["error"]["code"] == "invalid"


def test_a_taken_identifier_answers_409(client_for):
    PatientFactory(identifiers=[{"system": "passport", "value": "X1"}])
    response = client_for(Role.RECEPTIONIST).post(
        URL,
        {**NEW, "identifiers": [{"system": "passport", "value": "X1"}]},
        content_type="application/json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "identifier_taken"
    assert Patient.objects.count() == 1


def test_patch_updates_and_audits_the_changed_fields_but_never_the_mrn(client_for):
    patient = PatientFactory()
    response = client_for(Role.RECEPTIONIST).patch(
        f"{URL}{patient.pk}/",
        {"phone": "07700 900123", "mrn": "1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.phone == "+447700900123" and patient.search_phone == "447700900123"
    assert response.json()["mrn"] == patient.mrn
    event = AuditEvent.objects.filter(action="patient.update").latest("id")
    assert event.details["changed"] == ["phone"] and event.patient_ref == str(patient.pk)


def test_a_pharmacist_reads_but_may_not_register_or_update(client_for):
    patient = PatientFactory()
    client = client_for(Role.PHARMACIST)
    assert client.get(f"{URL}{patient.pk}/").status_code == 200
    assert client.post(URL, NEW, content_type="application/json").status_code == 403
    assert (
        client.patch(f"{URL}{patient.pk}/", {}, content_type="application/json").status_code == 403
    )


def test_a_patient_user_reads_only_their_own_record_and_never_lists(client_for, make_user):
    me = make_user(Role.PATIENT)
    mine = PatientFactory(user=me)
    other = PatientFactory()
    client = client_for(user=me)
    assert client.get(f"{URL}{mine.pk}/").status_code == 200
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert client.get(f"{URL}not-a-uuid/").status_code == 404
    assert client.get(URL).status_code == 403
    assert client.patch(f"{URL}{mine.pk}/", {}, content_type="application/json").status_code == 403


def test_reading_a_record_leaves_an_audit_row_with_the_patient(client_for):
    patient = PatientFactory()
    client_for(Role.NURSE).get(f"{URL}{patient.pk}/")
    assert AuditEvent.objects.filter(action="patient.view", patient_ref=str(patient.pk)).exists()


def test_the_list_pages_with_next_links(client_for):
    for _ in range(3):
        PatientFactory(family_name="Pagewood")
    body = client_for(Role.NURSE).get(URL, {"q": "pagewood", "page_size": 2}).json()
    assert len(body["results"]) == 2 and "page=2" in body["next"] and body["previous"] is None


def test_the_patients_api_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert b"/api/v1/patients/" in schema.content
