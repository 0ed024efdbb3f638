import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from hms.core import chart
from hms.core.chart import ChartSection
from hms.core.models import AuditEvent
from hms.core.permissions import Perm, Role
from hms.patients.models import PatientIdentifier
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def sections(monkeypatch, tmp_path, settings):
    """A banner section and a body section, as clinical would register them."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(chart, "_sections", dict(chart._sections))
    chart.register_section(
        ChartSection(
            key="test-alerts",
            title="Alerts",
            order=1,
            perm=Perm.PATIENT_VIEW_DEMOGRAPHICS,
            template="patients/tests/section.html",
            load=lambda patient, user: {"items": ["Penicillin allergy"]},
            banner=True,
        )
    )
    chart.register_section(
        ChartSection(
            key="test-history",
            title="Visit history",
            order=50,
            perm=Perm.PATIENT_VIEW_DEMOGRAPHICS,
            template="patients/tests/section.html",
            load=lambda patient, user: {"items": [i.value for i in patient.identifiers.all()]},
        )
    )


def test_the_chart_shows_banner_demographics_and_sections_in_order(client_for, sections):
    patient = PatientFactory(
        given_name="Amara", family_name="Okoye", identifiers=[{"system": "passport", "value": "P9"}]
    )
    response = client_for(Role.NURSE).get(f"/patients/{patient.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert patient.mrn_display in html and "OKOYE" in html
    assert (
        html.index("Penicillin allergy") < html.index("Demographics") < html.index("Visit history")
    )


def test_every_chart_view_leaves_an_audit_row_with_the_patient(client_for):
    patient = PatientFactory()
    client_for(Role.RECEPTIONIST).get(f"/patients/{patient.pk}/")
    assert AuditEvent.objects.filter(
        action="patient.chart_view", patient_ref=str(patient.pk)
    ).exists()


def test_the_chart_takes_the_same_number_of_queries_whatever_the_history(client_for, sections):
    patient = PatientFactory(identifiers=[{"system": "other", "value": "ID-0"}])
    client = client_for(Role.DOCTOR)
    url = f"/patients/{patient.pk}/"
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(1, 30):
        PatientIdentifier.objects.create(patient=patient, system="other", value=f"ID-{n}")
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
    assert len(small) <= 40  # every app's sections together


def test_the_patient_list_takes_a_bounded_number_of_queries(
    client_for, django_assert_max_num_queries
):
    client = client_for(Role.RECEPTIONIST)
    client.get("/patients/")
    for _ in range(3):
        PatientFactory(family_name="Listwood")
    with CaptureQueriesContext(connection) as small:
        client.get("/patients/", {"q": "listwood"})
    for _ in range(40):
        PatientFactory(family_name="Listwood")
    with django_assert_max_num_queries(len(small)):
        assert client.get("/patients/", {"q": "listwood"}).status_code == 200
    assert len(small) <= 19  # including the batch audit of the patients shown (3 queries)


def test_live_search_answers_with_just_the_results(client_for):
    PatientFactory(family_name="Htmxley")
    response = client_for(Role.RECEPTIONIST).get(
        "/patients/", {"q": "htmx"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="patient-results"
    )
    assert b"HTMXLEY" in response.content and b"<html" not in response.content


def test_a_patient_user_gets_404_on_another_patients_chart_and_photo(client_for, make_user):
    me = make_user(Role.PATIENT)
    PatientFactory(user=me)
    other = PatientFactory(photo=SimpleUploadedFile("x.png", png_bytes()))
    client = client_for(user=me)
    assert client.get(f"/patients/{other.pk}/").status_code in (403, 404)
    assert client.get(f"/patients/{other.pk}/edit/").status_code in (403, 404)
    assert client.get(f"/patients/{other.pk}/photo/").status_code == 404


def test_a_patient_sees_their_own_record_and_details_in_the_portal(client_for, make_user):
    me = make_user(Role.PATIENT)
    mine = PatientFactory(user=me, given_name="Pat", family_name="Jones")
    client = client_for(user=me)
    record = client.get("/patients/me/")
    details = client.get("/patients/me/details/")
    assert record.status_code == 200 and mine.mrn_display.encode() in record.content
    assert details.status_code == 200 and b"My details" in details.content
    assert AuditEvent.objects.filter(patient_ref=str(mine.pk), actor=me).count() == 2


def test_a_portal_account_without_a_record_gets_404(client_for):
    assert client_for(Role.PATIENT).get("/patients/me/").status_code == 404


def test_the_photo_is_served_only_through_the_access_checked_view(client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    patient = PatientFactory(photo=SimpleUploadedFile("face.png", png_bytes()))
    assert str(tmp_path) in patient.photo.path
    response = client_for(Role.NURSE).get(f"/patients/{patient.pk}/photo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert AuditEvent.objects.filter(action="patient.photo_view").exists()


def test_the_menu_offers_patients_to_staff_and_my_record_to_patients(client_for, make_user):
    staff = client_for(Role.RECEPTIONIST).get("/dashboard/").content.decode()
    assert 'href="/patients/"' in staff
