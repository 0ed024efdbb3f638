import pytest
from django.urls import reverse
from django.utils import timezone

from hms.clinical.chart import SECTIONS
from hms.clinical.models import ClinicalNote, Diagnosis, Prescription, Vitals
from hms.clinical.tests.factories import (
    AllergyFactory,
    EncounterFactory,
    LabResultFactory,
    NoteFactory,
    PrescriptionFactory,
    VitalsFactory,
)
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor_client(client_for):
    return client_for(Role.DOCTOR)


@pytest.fixture
def encounter(doctor_client):
    return EncounterFactory(practitioner=doctor_client.user)


# --- Staff pages --------------------------------------------------------------------------------


def test_a_nurse_records_vitals_on_the_encounter_page_and_sees_the_flags(client_for, encounter):
    client = client_for(Role.NURSE)
    url = reverse("clinical:vitals-add", args=[encounter.pk])
    response = client.post(url, {"pulse_per_min": "130", "weight_kg": "80", "height_cm": "180"})
    assert response.status_code == 302
    vitals = Vitals.objects.get(encounter=encounter)
    assert vitals.flags == {"pulse_per_min": "high"} and str(vitals.bmi) == "24.7"
    page = client.get(reverse("clinical:encounter", args=[encounter.pk]))
    assert b'data-flag="high"' in page.content


def test_impossible_vitals_come_back_as_field_errors(doctor_client, encounter):
    url = reverse("clinical:vitals-add", args=[encounter.pk])
    response = doctor_client.post(url, {"temperature_c": "60"})
    assert response.status_code == 400
    assert b"temperature_c_error" in response.content
    assert not Vitals.objects.exists()


def test_the_prescription_form_shows_the_allergy_warning_and_records_the_acknowledgement(
    doctor_client, encounter
):
    AllergyFactory(patient=encounter.patient, substance="Penicillin", reaction="Anaphylaxis")
    url = reverse("clinical:prescription-add", args=[encounter.pk])
    body = {"drug": "Amoxicillin", "strength": "500 mg", "quantity": "21"}
    response = doctor_client.post(url, body)
    assert response.status_code == 409
    assert b"data-allergy-warning" in response.content and b"Penicillin" in response.content
    assert b'name="acknowledge_allergy_warning"' in response.content
    assert b'type="checkbox"' in response.content
    assert not Prescription.objects.exists()
    response = doctor_client.post(url, {**body, "acknowledge_allergy_warning": "on"})
    assert response.status_code == 302
    prescription = Prescription.objects.get()
    assert prescription.allergy_acknowledged_by == doctor_client.user
    assert "Penicillin" in prescription.allergy_warning


def test_a_diagnosis_with_an_unknown_code_is_refused_on_the_form(doctor_client, encounter):
    url = reverse("clinical:diagnosis-add", args=[encounter.pk])
    response = doctor_client.post(url, {"code": "ZZZ.9", "status": "active"})
    assert response.status_code == 400 and b"Not an ICD-10-CM code" in response.content
    assert doctor_client.post(url, {"code": "j45.909", "status": "active"}).status_code == 302
    assert Diagnosis.objects.get().code == "J45.909"


def test_the_icd10_search_answers_htmx_with_options(doctor_client):
    response = doctor_client.get(reverse("clinical:icd10-search"), {"code": "asthma"})
    assert response.status_code == 200
    assert b"<option" in response.content and b"J45" in response.content


def test_a_signed_note_has_no_edit_form_and_is_amended_instead(doctor_client, encounter):
    note = NoteFactory(
        encounter=encounter, author=doctor_client.user, signed_at=timezone.now(),
        signed_by=doctor_client.user,
    )  # fmt: skip
    edit = doctor_client.post(
        reverse("clinical:note-edit", args=[note.pk]), {"subjective": "Changed"}
    )
    assert edit.status_code == 302
    assert ClinicalNote.objects.get(pk=note.pk).subjective == "Cough for three days."
    doctor_client.post(
        reverse("clinical:note-amend", args=[note.pk]), {"text": "Also wheeze.", "reason": "Late"}
    )
    note.refresh_from_db()
    assert note.subjective == "Cough for three days."
    assert note.amendments.get().text == "Also wheeze."


def test_the_encounter_page_runs_a_fixed_number_of_queries(
    doctor_client, encounter, django_assert_num_queries
):
    url = reverse("clinical:encounter", args=[encounter.pk])
    for _ in range(10):
        VitalsFactory(encounter=encounter, patient=encounter.patient)
        PrescriptionFactory(encounter=encounter, patient=encounter.patient)
        NoteFactory(encounter=encounter, patient=encounter.patient)
    with django_assert_num_queries(17):
        assert doctor_client.get(url).status_code == 200


def test_lab_worklist_and_pharmacy_list_audit_each_patient_shown(client_for):
    prescription = PrescriptionFactory()
    client = client_for(Role.PHARMACIST)
    response = client.get(reverse("clinical:prescription-list"))
    assert response.status_code == 200 and b"Paracetamol" in response.content
    assert AuditEvent.objects.filter(
        action="prescription.list_view", patient_ref=str(prescription.patient_id)
    ).exists()


# --- API ------------------------------------------------------------------------------------------


def test_api_prescription_answers_409_on_an_allergy_until_acknowledged(doctor_client, encounter):
    AllergyFactory(patient=encounter.patient, substance="Aspirin")
    body = {"encounter": str(encounter.pk), "drug": "Aspirin", "strength": "75 mg"}
    response = doctor_client.post("/api/v1/prescriptions/", body, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "allergy_warning"
    body["acknowledge_allergy_warning"] = True
    response = doctor_client.post("/api/v1/prescriptions/", body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["allergy_acknowledged_by"] == str(doctor_client.user.pk)


def test_api_notes_are_signed_then_refuse_edits_and_take_amendments(doctor_client, encounter):
    created = doctor_client.post(
        "/api/v1/notes/",
        {"encounter": str(encounter.pk), "subjective": "Back pain", "plan": "Physio"},
        content_type="application/json",
    ).json()
    url = f"/api/v1/notes/{created['id']}/"
    assert (
        doctor_client.patch(url, {"plan": "Rest"}, content_type="application/json").json()["plan"]
        == "Rest"
    )
    assert doctor_client.post(url + "sign/").status_code == 200
    refused = doctor_client.patch(url, {"plan": "Surgery"}, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "note_signed"
    amended = doctor_client.post(
        url + "amend/", {"text": "Add NSAID"}, content_type="application/json"
    )
    assert amended.status_code == 201
    note = doctor_client.get(url).json()
    assert note["plan"] == "Rest" and note["amendments"][0]["text"] == "Add NSAID"


def test_api_bad_input_is_a_400_with_fields_never_a_500(doctor_client, encounter):
    response = doctor_client.post(
        "/api/v1/vitals/",
        {"encounter": str(encounter.pk), "spo2_percent": 130},
        content_type="application/json",
    )
    assert response.status_code == 400 and "spo2_percent" in response.json()["error"]["fields"]
    response = doctor_client.post(
        "/api/v1/diagnoses/", {"encounter": str(encounter.pk), "code": "NOPE"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_code"
    assert doctor_client.get("/api/v1/encounters/not-a-uuid/").status_code == 404
    assert doctor_client.get("/api/v1/encounters/?patient=nonsense").status_code == 404


def test_api_lab_flow_order_collect_result_release(client_for, doctor_client, encounter):
    order = doctor_client.post(
        "/api/v1/lab-orders/", {"encounter": str(encounter.pk), "test_code": "2345-7"},
        content_type="application/json",
    ).json()  # fmt: skip
    assert order["test_name"] == "Glucose"
    lab = client_for(Role.LAB)
    assert lab.post(f"/api/v1/lab-orders/{order['id']}/collect/").status_code == 200
    result = lab.post(
        "/api/v1/lab-results/", {"order": order["id"], "value": "1.9"},
        content_type="application/json",
    ).json()  # fmt: skip
    assert result["flag"] == "critical" and result["unit"] == "mmol/L"
    assert lab.get("/api/v1/lab-orders/").json()["count"] == 0  # worklist: nothing waiting


def test_api_icd10_search(doctor_client):
    response = doctor_client.get("/api/v1/icd10/", {"q": "E11.9"})
    assert response.json()[0] == {
        "code": "E11.9",
        "description": "Type 2 diabetes mellitus without complications",
        "billable": True,
    }


def test_the_openapi_schema_documents_the_clinical_routes(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/encounters/", "/api/v1/notes/{id}/amend/", "/api/v1/lab-results/"):
        assert path in schema


# --- Chart sections -------------------------------------------------------------------------------


def test_every_chart_section_loads_in_a_bounded_number_of_queries(
    make_user, django_assert_max_num_queries
):
    patient = PatientFactory()
    for _ in range(15):
        encounter = EncounterFactory(patient=patient)
        VitalsFactory(encounter=encounter, patient=patient)
        PrescriptionFactory(encounter=encounter, patient=patient)
        NoteFactory(encounter=encounter, patient=patient)
        LabResultFactory(order__encounter=encounter, order__patient=patient)
        AllergyFactory(patient=patient, substance=f"Substance {_}")
    user = make_user(Role.DOCTOR)
    for section in SECTIONS:
        with django_assert_max_num_queries(3):
            context = section.load(patient=patient, user=user)
        assert context, section.key
    from hms.clinical.chart import load_allergies, load_vitals

    assert len(load_allergies(patient=patient)["allergies"]) == 15
    assert load_vitals(patient=patient)["trend"] is not None


def test_the_chart_shows_the_clinical_sections_to_a_doctor(doctor_client):
    patient = PatientFactory()
    AllergyFactory(patient=patient, substance="Latex")
    VitalsFactory(encounter__patient=patient, patient=patient)
    response = doctor_client.get(reverse("patients:chart", args=[patient.pk]))
    assert response.status_code == 200
    assert b"Latex" in response.content and b"Vital signs" in response.content


def test_api_encounters_without_a_patient_are_the_open_ones(doctor_client):
    mine = EncounterFactory(practitioner=doctor_client.user)
    now = timezone.now()
    EncounterFactory(status="closed", started_at=now, ended_at=now)
    other = EncounterFactory()
    ids = {e["id"] for e in doctor_client.get("/api/v1/encounters/").json()["results"]}
    assert ids == {str(mine.pk), str(other.pk)}
    ids = {e["id"] for e in doctor_client.get("/api/v1/encounters/?mine=1").json()["results"]}
    assert ids == {str(mine.pk)}
    assert AuditEvent.objects.filter(
        action="encounter.worklist_view", patient_ref=str(other.patient_id)
    ).exists()


def test_worklists_cost_the_same_number_of_queries_whatever_the_backlog(client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hms.clinical.tests.factories import LabOrderFactory

    lab = client_for(Role.LAB)
    lab.get(reverse("clinical:lab-worklist"))  # the session's first request stores its state
    patients = PatientFactory.create_batch(3)
    counts = []
    for backlog in (30, 60):
        while LabOrderFactory._meta.model.objects.count() < backlog:
            LabOrderFactory(patient=patients[0], encounter__patient=patients[0])
            LabOrderFactory(patient=patients[1], encounter__patient=patients[1])
            LabOrderFactory(patient=patients[2], encounter__patient=patients[2])
        with CaptureQueriesContext(connection) as queries:
            assert lab.get(reverse("clinical:lab-worklist")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_prescription_is_stopped_and_an_allergy_resolved_never_deleted(doctor_client, encounter):
    prescription = PrescriptionFactory(encounter=encounter, patient=encounter.patient)
    allergy = AllergyFactory(patient=encounter.patient)
    page = reverse("clinical:encounter", args=[encounter.pk])
    response = doctor_client.post(
        reverse("clinical:prescription-stop", args=[prescription.pk]), {"next": page}
    )
    assert response.status_code == 302 and response["Location"] == page
    prescription.refresh_from_db()
    assert prescription.status == "stopped"
    again = doctor_client.post(f"/api/v1/prescriptions/{prescription.pk}/stop/")
    assert again.status_code == 409
    response = doctor_client.post(
        f"/api/v1/allergies/{allergy.pk}/status/", {"status": "resolved"},
        content_type="application/json",
    )  # fmt: skip
    assert response.json()["status"] == "resolved"
    assert AuditEvent.objects.filter(
        action="allergy.status", patient_ref=str(encounter.patient_id)
    ).exists()


def test_a_stop_button_never_redirects_off_site(doctor_client):
    prescription = PrescriptionFactory()
    response = doctor_client.post(
        reverse("clinical:prescription-stop", args=[prescription.pk]),
        {"next": "/\\evil.example/"},
    )
    assert response["Location"] == reverse("patients:chart", args=[prescription.patient_id])
