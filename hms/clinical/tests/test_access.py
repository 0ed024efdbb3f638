"""Who sees what: every clinical page and API route, by role, and a patient against another."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hms.clinical import services
from hms.clinical.models import LabResult
from hms.clinical.tests.factories import (
    AllergyFactory,
    EncounterFactory,
    LabOrderFactory,
    NoteFactory,
    PrescriptionFactory,
    VitalsFactory,
)
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture
def record(make_user, settings, tmp_path):
    """A patient with one of everything in their record."""
    settings.MEDIA_ROOT = tmp_path
    doctor = make_user(Role.DOCTOR)
    patient = PatientFactory()
    encounter = EncounterFactory(patient=patient, practitioner=doctor)
    order = LabOrderFactory(encounter=encounter, patient=patient)
    lab = make_user(Role.LAB)
    services.lab_order_collect(actor=lab, order=order)
    result = services.lab_result_record(actor=lab, order=order, value="4.1")
    services.lab_result_release(actor=doctor, result=result)
    return {
        "patient": patient,
        "encounter": encounter,
        "vitals": VitalsFactory(encounter=encounter, patient=patient),
        "diagnosis": services.diagnosis_add(
            actor=doctor, patient=patient, encounter=encounter, code="I10"
        ),
        "allergy": AllergyFactory(patient=patient),
        "prescription": PrescriptionFactory(encounter=encounter, patient=patient),
        "note": NoteFactory(
            encounter=encounter,
            patient=patient,
            author=doctor,
            signed_at=timezone.now(),
            signed_by=doctor,
        ),  # fmt: skip
        "order": order,
        "result": result,
        "attachment": services.attachment_add(
            actor=doctor,
            patient=patient,
            encounter=encounter,
            upload=SimpleUploadedFile("letter.pdf", PDF),
        ),  # fmt: skip
        "doctor": doctor,
    }


def page_urls(r) -> list[str]:
    e, n, o, res = r["encounter"].pk, r["note"].pk, r["order"].pk, r["result"].pk
    return [
        reverse("clinical:encounter", args=[e]),
        reverse("clinical:encounter-open", args=[r["patient"].pk]),
        reverse("clinical:note-edit", args=[n]),
        reverse("clinical:attachment", args=[r["attachment"].pk]),
        reverse("clinical:lab-order", args=[o]),
        *[
            reverse(f"clinical:{name}", args=[e])
            for name in (
                "encounter-start",
                "encounter-close",
                "vitals-add",
                "diagnosis-add",
                "allergy-add",
                "prescription-add",
                "note-add",
                "lab-order-add",
                "attachment-add",
            )
        ],  # fmt: skip
        reverse("clinical:note-sign", args=[n]),
        reverse("clinical:note-amend", args=[n]),
        reverse("clinical:lab-order-collect", args=[o]),
        reverse("clinical:lab-result-add", args=[o]),
        reverse("clinical:lab-result-release", args=[res]),
        reverse("clinical:prescription-stop", args=[r["prescription"].pk]),
        reverse("clinical:allergy-status", args=[r["allergy"].pk]),
    ]


API_LISTS = [
    "encounters", "vitals", "diagnoses", "allergies", "prescriptions", "notes", "lab-orders",
    "lab-results",
]  # fmt: skip


def api_details(r) -> list[str]:
    return [
        f"/api/v1/encounters/{r['encounter'].pk}/",
        f"/api/v1/vitals/{r['vitals'].pk}/",
        f"/api/v1/diagnoses/{r['diagnosis'].pk}/",
        f"/api/v1/allergies/{r['allergy'].pk}/",
        f"/api/v1/prescriptions/{r['prescription'].pk}/",
        f"/api/v1/notes/{r['note'].pk}/",
        f"/api/v1/lab-orders/{r['order'].pk}/",
        f"/api/v1/lab-results/{r['result'].pk}/",
    ]


def api_actions(r) -> list[str]:
    return [
        f"/api/v1/encounters/{r['encounter'].pk}/start/",
        f"/api/v1/encounters/{r['encounter'].pk}/close/",
        f"/api/v1/notes/{r['note'].pk}/sign/",
        f"/api/v1/notes/{r['note'].pk}/amend/",
        f"/api/v1/lab-orders/{r['order'].pk}/collect/",
        f"/api/v1/lab-results/{r['result'].pk}/release/",
        f"/api/v1/prescriptions/{r['prescription'].pk}/stop/",
        f"/api/v1/allergies/{r['allergy'].pk}/status/",
    ]


def test_a_patient_gets_404_or_403_on_every_clinical_page_and_route_of_another_patient(
    record, client_for, make_user
):
    me = PatientFactory(user=make_user(Role.PATIENT))
    EncounterFactory(patient=me)
    client = client_for(user=me.user)
    for url in page_urls(record):
        for method in (client.get, client.post):
            status = method(url).status_code
            assert status in (403, 404), f"{method.__name__.upper()} {url} answered {status}"
    other = record["patient"].pk
    portal_routes = {"allergies", "prescriptions", "notes", "lab-orders", "lab-results"}
    for name, url in zip(API_LISTS, api_details(record), strict=True):
        # Routes a patient uses for their own record answer 404 about anyone else's; the others
        # are closed to patients altogether (403).
        expected = 404 if name in portal_routes else 403
        assert client.get(f"/api/v1/{name}/?patient={other}").status_code == expected, name
        assert client.get(url).status_code == expected, url
        assert client.patch(url, {}, content_type="application/json").status_code in (403, 404, 405)
    for url in api_actions(record):
        assert client.post(url, {}, content_type="application/json").status_code in (403, 404)
    for name in API_LISTS:
        body = {"patient": str(other), "encounter": str(record["encounter"].pk)}
        assert client.post(
            f"/api/v1/{name}/", body, content_type="application/json"
        ).status_code in (403, 404)


def test_a_patient_sees_their_own_signed_notes_released_results_medicines_and_allergies(
    record, client_for, make_user
):
    patient = record["patient"]
    patient.user = make_user(Role.PATIENT)
    patient.save(update_fields=["user"])
    draft = NoteFactory(encounter=record["encounter"], patient=patient, subjective="Draft")
    hidden = LabResult.objects.create(
        order=record["order"], patient=patient, analyte="Sodium", value=140, unit="mmol/L"
    )
    client = client_for(user=patient.user)
    for name in ("notes", "lab-results", "prescriptions", "allergies", "lab-orders"):
        response = client.get(f"/api/v1/{name}/")
        assert response.status_code == 200, name
        assert response.json()["count"] == 1, name
    assert client.get(f"/api/v1/notes/{draft.pk}/").status_code == 404
    assert client.get(f"/api/v1/lab-results/{hidden.pk}/").status_code == 404
    for name in ("encounters", "vitals", "diagnoses"):
        assert client.get(f"/api/v1/{name}/").status_code in (403, 404), name
    assert AuditEvent.objects.filter(
        patient_ref=str(patient.pk), action="clinicalnote.list_view", actor=patient.user
    ).exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.DOCTOR, set(API_LISTS)),
        (Role.NURSE, set(API_LISTS)),
        (Role.PHARMACIST, {"allergies", "prescriptions"}),
        (Role.LAB, {"lab-orders", "lab-results"}),
        (Role.RECEPTIONIST, set()),
        (Role.BILLING, set()),
        (Role.ADMIN, set()),
    ],
)
def test_each_staff_role_reads_only_its_part_of_the_record(record, client_for, role, allowed):
    client = client_for(role)
    patient = record["patient"].pk
    for name, url in zip(API_LISTS, api_details(record), strict=True):
        expected = {200} if name in allowed else {403, 404}
        assert client.get(f"/api/v1/{name}/?patient={patient}").status_code in expected, name
        assert client.get(url).status_code in expected, url


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        (Role.DOCTOR, {"encounter", "lab-order", "attachment", "prescriptions", "lab", "list"}),
        (Role.PHARMACIST, {"prescriptions"}),
        (Role.LAB, {"lab-order", "lab"}),
        (Role.RECEPTIONIST, set()),
        (Role.BILLING, set()),
    ],
)
def test_each_staff_role_opens_only_its_pages(record, client_for, role, pages):
    client = client_for(role)
    urls = {
        "encounter": reverse("clinical:encounter", args=[record["encounter"].pk]),
        "lab-order": reverse("clinical:lab-order", args=[record["order"].pk]),
        "attachment": reverse("clinical:attachment", args=[record["attachment"].pk]),
        "prescriptions": reverse("clinical:prescription-list"),
        "lab": reverse("clinical:lab-worklist"),
        "list": reverse("clinical:encounter-list"),
    }
    for key, url in urls.items():
        assert client.get(url).status_code == (200 if key in pages else 403), key


def test_reading_an_encounter_leaves_an_audit_row_with_the_patient(record, client_for):
    client = client_for(Role.NURSE)
    client.get(reverse("clinical:encounter", args=[record["encounter"].pk]))
    assert AuditEvent.objects.filter(
        action="encounter.view", patient_ref=str(record["patient"].pk), actor=client.user
    ).exists()


def test_a_document_is_served_as_a_download_with_nosniff_and_audited(record, client_for):
    client = client_for(Role.DOCTOR)
    response = client.get(reverse("clinical:attachment", args=[record["attachment"].pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="letter.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        action="attachment.download", patient_ref=str(record["patient"].pk)
    ).exists()


def test_documents_live_outside_the_static_web_root(record, settings):
    path = record["attachment"].file.path
    assert path.startswith(str(settings.MEDIA_ROOT))
    assert not path.startswith(str(settings.STATIC_ROOT))


def test_the_portal_record_shows_signed_notes_and_released_results_only(
    record, client_for, make_user
):
    patient = record["patient"]
    patient.user = make_user(Role.PATIENT)
    patient.save(update_fields=["user"])
    NoteFactory(encounter=record["encounter"], patient=patient, subjective="Unsigned draft text")
    LabResult.objects.create(
        order=record["order"], patient=patient, analyte="Unreleased sodium", value=140
    )
    response = client_for(user=patient.user).get(reverse("patients:my-record"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cough for three days." in page  # the signed note
    assert "Unsigned draft text" not in page
    assert "Potassium" in page and "Unreleased sodium" not in page
    assert "Paracetamol" in page and "Penicillin" in page
    assert "Vital signs" not in page and "letter.pdf" not in page
