import datetime
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hms.core.errors import Conflict, DomainError
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import Patient
from hms.patients.services import patient_create, patient_update
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
FORM = {
    "given_name": "Jonathan",
    "family_name": "Smith",
    "birth_date": "1984-03-12",
    "sex": "male",
    "preferred_language": "English",
    "phone": "+44 7700 900123",
    "email": "",
    "consent_sms": "on",
}


def image(kind: str = "PNG", size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, kind)
    return SimpleUploadedFile(f"x.{kind.lower()}", buffer.getvalue())


def png_bomb(width: int = 20_000, height: int = 20_000) -> SimpleUploadedFile:
    """A few dozen bytes of PNG that claim width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")
    return SimpleUploadedFile("bomb.png", data)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_photo_claiming_more_pixels_than_a_camera_takes_is_refused_before_decoding():
    assert len(png_bomb().read()) < 100
    for bomb in (png_bomb(), png_bomb(8_000, 8_000)):  # beyond, and within, PIL's own bomb limit
        with pytest.raises(DomainError) as refused:
            PatientFactory(photo=bomb)
        assert "megapixels" in str(refused.value.fields["photo"])


def test_registration_records_every_detail_and_an_audit_row(make_user):
    clerk = make_user(Role.RECEPTIONIST)
    patient = patient_create(
        actor=clerk,
        given_name="Zoë",
        family_name="O'Brien",
        birth_date=datetime.date(1990, 1, 2),
        emergency_contact_name="Liam O'Brien",
        next_of_kin_name="Aoife O'Brien",
        insurance_payer="Demo Health",
        insurance_policy_number="POL-1",
        consent_data_sharing=True,
        identifiers=[{"system": "national-id", "value": "AB123456C"}],
    )
    assert patient.search_name == "zoe o brien"
    assert [i.value for i in patient.identifiers.all()] == ["AB123456C"]
    event = AuditEvent.objects.get(action="patient.create")
    assert event.actor == clerk and event.patient_ref == str(patient.pk)


def test_a_birth_date_in_the_future_is_refused(make_user):
    with pytest.raises(DomainError) as refused:
        patient_create(
            actor=make_user(Role.RECEPTIONIST),
            given_name="A",
            family_name="B",
            birth_date=datetime.date(2999, 1, 1),
        )
    assert "birth_date" in refused.value.fields


def test_a_birth_date_before_1900_is_refused(make_user):
    with pytest.raises(DomainError) as refused:
        patient_create(
            actor=make_user(Role.RECEPTIONIST),
            given_name="A",
            family_name="B",
            birth_date=datetime.date(1899, 12, 31),
        )
    assert "birth_date" in refused.value.fields


def test_phone_numbers_are_stored_in_e164_and_one_that_does_not_parse_is_refused(make_user):
    clerk = make_user(Role.RECEPTIONIST)
    patient = patient_create(
        actor=clerk,
        given_name="A",
        family_name="B",
        birth_date=datetime.date(1990, 1, 1),
        phone="07700 900555",
        emergency_contact_phone="+33 1 23 45 67 89",
    )
    assert (patient.phone, patient.emergency_contact_phone) == ("+447700900555", "+33123456789")
    with pytest.raises(DomainError) as refused:
        patient_update(actor=clerk, patient=patient, next_of_kin_phone="call me maybe!!")
    assert "next_of_kin_phone" in refused.value.fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me maybe!!", "Enter a phone number"),
        ("emergency_contact_phone", "12", "Enter a phone number"),
        ("birth_date", "1899-12-31", "cannot be before 1900"),
    ],
)
def test_the_registration_form_refuses_a_bad_phone_or_birth_date(client_for, field, value, message):
    response = client_for(Role.RECEPTIONIST).post("/patients/new/", {**FORM, field: value})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Patient.objects.exists()


def test_the_registration_form_stores_a_national_number_in_e164(client_for):
    response = client_for(Role.RECEPTIONIST).post(
        "/patients/new/", {**FORM, "phone": "07700 900555"}
    )
    assert response.status_code == 302
    assert Patient.objects.get().phone == "+447700900555"


def test_an_identifier_already_recorded_for_another_patient_is_refused_whole():
    PatientFactory(identifiers=[{"system": "passport", "value": "P1"}])
    with pytest.raises(Conflict):
        PatientFactory(identifiers=[{"system": "passport", "value": "P1"}])
    assert Patient.objects.count() == 1


def test_a_photo_must_be_a_real_jpeg_or_png_of_at_most_2_mb():
    assert PatientFactory(photo=image("JPEG")).photo.name.endswith(".jpg")
    with pytest.raises(DomainError):
        PatientFactory(photo=SimpleUploadedFile("fake.png", b"<script>alert(1)</script>"))
    with pytest.raises(DomainError):
        PatientFactory(photo=image("GIF"))
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1))
    with pytest.raises(DomainError):
        PatientFactory(photo=big)


def test_an_update_names_the_changed_fields_in_the_audit_trail(make_user):
    patient = PatientFactory(family_name="Smith")
    patient_update(actor=make_user(Role.NURSE), patient=patient, family_name="Smyth", city="Leeds")
    event = AuditEvent.objects.filter(action="patient.update").get()
    assert event.details["changed"] == ["city", "family_name"]
    patient.refresh_from_db()
    assert patient.search_family == "smyth"
    tokens = set(patient.name_tokens.values_list("token", flat=True))
    assert "smyth" in tokens and "smith" not in tokens


def test_the_registration_page_registers_and_opens_the_chart(client_for):
    response = client_for(Role.RECEPTIONIST).post(
        "/patients/new/",
        {**FORM, "photo": image(), "identifier_system": "passport", "identifier_value": "Z9"},
    )
    patient = Patient.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.photo and patient.consent_sms and patient.identifiers.get().value == "Z9"


def test_the_registration_page_offers_a_similar_existing_record_before_registering(client_for):
    existing = PatientFactory(
        given_name="Jonathan", family_name="Smith", birth_date=datetime.date(1984, 3, 12)
    )
    client = client_for(Role.RECEPTIONIST)
    response = client.post("/patients/new/", {**FORM, "given_name": "Jonathon"})
    assert response.status_code == 200
    assert b"may already be registered" in response.content
    assert f"/patients/{existing.pk}/".encode() in response.content
    assert Patient.objects.count() == 1
    anyway = client.post(
        "/patients/new/", {**FORM, "given_name": "Jonathon", "confirm_not_duplicate": "1"}
    )
    assert anyway.status_code == 302 and Patient.objects.count() == 2


def test_the_registration_page_shows_field_errors_never_a_500(client_for):
    client = client_for(Role.RECEPTIONIST)
    for data in (
        {},
        {**FORM, "birth_date": "2999-01-01"},
        {**FORM, "birth_date": "31/02/2000"},
        {**FORM, "email": "not-an-email"},
        {**FORM, "photo": SimpleUploadedFile("x.png", b"not an image")},
        {**FORM, "photo": png_bomb()},
        {**FORM, "identifier_system": "passport"},
    ):
        response = client.post("/patients/new/", data)
        assert response.status_code == 200, data
        assert b"invalid-feedback" in response.content or b"alert-danger" in response.content
    assert Patient.objects.count() == 0


def test_the_edit_page_saves_changes(client_for):
    patient = PatientFactory()
    response = client_for(Role.RECEPTIONIST).post(
        f"/patients/{patient.pk}/edit/", {**FORM, "city": "York"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.city == "York" and patient.given_name == "Jonathan"


def test_a_nurse_may_register_but_a_pharmacist_may_not(client_for, make_user):
    assert client_for(Role.NURSE).get("/patients/new/").status_code == 200
    pharmacist = client_for(user=make_user(Role.PHARMACIST))
    assert pharmacist.get("/patients/new/").status_code == 403


def test_a_pharmacist_may_not_open_the_registration_page(client_for):
    assert client_for(Role.PHARMACIST).get("/patients/new/").status_code == 403


def test_a_self_registered_portal_account_gets_its_own_record():
    from hms.accounts.services import patient_account_register

    user = patient_account_register(
        email="new@example.org",
        password="a-long-and-unusual-pass-2026",
        given_name="Nia",
        family_name="Evans",
        birth_date=datetime.date(2000, 5, 5),
        phone="07700 555111",
        base_url="http://testserver/",
    )
    patient = Patient.objects.get(user=user)
    assert patient.phone == "+447700555111" and patient.search_phone == "447700555111"


def test_an_identifier_recorded_by_mistake_is_removed_from_the_edit_page_and_audited(client_for):
    patient = PatientFactory(identifiers=[{"system": "passport", "value": "WRONG1"}])
    identifier = patient.identifiers.get()
    client = client_for(Role.RECEPTIONIST)
    page = client.get(f"/patients/{patient.pk}/edit/")
    assert b"WRONG1" in page.content
    response = client.post(f"/patients/{patient.pk}/identifiers/{identifier.pk}/remove/")
    assert response.status_code == 302 and not patient.identifiers.exists()
    event = AuditEvent.objects.get(action="patient.identifier_remove")
    assert event.patient_ref == str(patient.pk)


def test_an_identifier_of_another_patient_cannot_be_removed_through_this_patient(client_for):
    patient = PatientFactory()
    other = PatientFactory(identifiers=[{"system": "passport", "value": "KEEP1"}])
    url = f"/patients/{patient.pk}/identifiers/{other.identifiers.get().pk}/remove/"
    assert client_for(Role.RECEPTIONIST).post(url).status_code == 404
    assert other.identifiers.exists()
