"""Who writes what in the record: nurses record vitals, allergies and nursing notes; only a
doctor prescribes, diagnoses, closes an encounter or releases a result; only a note's author
signs it. Each rule holds in the service, the API and the pages."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hms.clinical import services
from hms.clinical.models import ClinicalNote, EncounterStatus, Prescription
from hms.clinical.tests.factories import (
    EncounterFactory,
    LabResultFactory,
    NoteFactory,
    PrescriptionFactory,
)
from hms.core.errors import NotAllowed
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR)


@pytest.fixture
def nurse(make_user):
    return make_user(Role.NURSE)


@pytest.fixture
def encounter(doctor):
    return EncounterFactory(practitioner=doctor, status=EncounterStatus.IN_PROGRESS)


# --- Only the author signs a draft note -------------------------------------------------------


def test_a_nurse_cannot_sign_a_doctors_draft_through_the_api(nurse, encounter):
    draft = NoteFactory(encounter=encounter)
    response = _client(nurse).post(f"/api/v1/notes/{draft.pk}/sign/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_author"
    assert ClinicalNote.objects.get(pk=draft.pk).signed_at is None


def test_another_doctor_cannot_sign_the_draft_on_the_page(make_user, encounter):
    draft = NoteFactory(encounter=encounter)
    _client(make_user(Role.DOCTOR)).post(reverse("clinical:note-sign", args=[draft.pk]))
    assert ClinicalNote.objects.get(pk=draft.pk).signed_at is None


def test_the_author_signs_their_own_draft(doctor, encounter):
    draft = NoteFactory(encounter=encounter, author=doctor)
    assert _client(doctor).post(f"/api/v1/notes/{draft.pk}/sign/").status_code == 200
    signed = ClinicalNote.objects.get(pk=draft.pk)
    assert signed.signed_at is not None and signed.signed_by == doctor


def test_the_sign_button_is_shown_to_the_author_only(doctor, nurse, encounter):
    NoteFactory(encounter=encounter, author=doctor)
    page = reverse("clinical:encounter", args=[encounter.pk])
    sign = 'type="submit">Sign</button>'
    assert sign in _client(doctor).get(page).content.decode()
    assert sign not in _client(nurse).get(page).content.decode()


# --- Nurses record; doctors prescribe, diagnose, close and release ----------------------------


def test_a_nurse_records_vitals_allergies_and_nursing_notes(nurse, encounter):
    client = _client(nurse)
    for url, body in [
        ("/api/v1/vitals/", {"encounter": str(encounter.pk), "pulse_per_min": 80}),
        ("/api/v1/allergies/", {"patient": str(encounter.patient_id), "substance": "Latex"}),
        ("/api/v1/notes/", {"encounter": str(encounter.pk), "objective": "Settled overnight."}),
    ]:
        assert client.post(url, body, content_type="application/json").status_code == 201, url


def test_a_nurse_may_not_prescribe_diagnose_close_or_release_through_the_api(nurse, encounter):
    client = _client(nurse)
    prescription = PrescriptionFactory(encounter=encounter)
    result = LabResultFactory(order__encounter=encounter)
    refused = [
        ("/api/v1/prescriptions/",
         {"encounter": str(encounter.pk), "drug": "Oxycodone", "strength": "80 mg",
          "quantity": 100}),
        (f"/api/v1/prescriptions/{prescription.pk}/stop/", {}),
        ("/api/v1/diagnoses/", {"encounter": str(encounter.pk), "code": "I10"}),
        (f"/api/v1/encounters/{encounter.pk}/close/", {}),
        (f"/api/v1/lab-results/{result.pk}/release/", {}),
    ]  # fmt: skip
    for url, body in refused:
        assert client.post(url, body, content_type="application/json").status_code == 403, url
    assert Prescription.objects.filter(encounter=encounter).count() == 1
    encounter.refresh_from_db()
    result.refresh_from_db()
    assert encounter.status == EncounterStatus.IN_PROGRESS and not result.released_to_patient


def test_a_nurse_may_not_prescribe_or_close_on_the_pages(nurse, encounter):
    client = _client(nurse)
    prescribed = client.post(
        reverse("clinical:prescription-add", args=[encounter.pk]), {"drug": "Oxycodone"}
    )
    closed = client.post(reverse("clinical:encounter-close", args=[encounter.pk]))
    assert prescribed.status_code == closed.status_code == 403
    page = client.get(reverse("clinical:encounter", args=[encounter.pk])).content.decode()
    assert reverse("clinical:prescription-add", args=[encounter.pk]) not in page
    assert reverse("clinical:diagnosis-add", args=[encounter.pk]) not in page
    assert reverse("clinical:encounter-close", args=[encounter.pk]) not in page
    assert reverse("clinical:vitals-add", args=[encounter.pk]) in page


def test_the_services_refuse_a_nurse_whatever_the_entry_point(nurse, encounter):
    patient = encounter.patient
    calls = [
        lambda: services.prescription_create(
            actor=nurse, patient=patient, encounter=encounter, drug="Oxycodone"
        ),
        lambda: services.prescription_stop(
            actor=nurse, prescription=PrescriptionFactory(encounter=encounter)
        ),
        lambda: services.diagnosis_add(
            actor=nurse, patient=patient, encounter=encounter, code="I10"
        ),
        lambda: services.encounter_close(actor=nurse, encounter=encounter),
        lambda: services.lab_result_release(
            actor=nurse, result=LabResultFactory(order__encounter=encounter)
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()


def test_a_doctor_prescribes_diagnoses_closes_and_releases(doctor, encounter):
    patient = encounter.patient
    services.prescription_create(actor=doctor, patient=patient, encounter=encounter, drug="Aspirin")
    services.diagnosis_add(actor=doctor, patient=patient, encounter=encounter, code="I10")
    result = services.lab_result_release(
        actor=doctor, result=LabResultFactory(order__encounter=encounter)
    )
    closed = services.encounter_close(actor=doctor, encounter=encounter)
    assert result.released_to_patient and closed.status == EncounterStatus.CLOSED
    assert closed.ended_at <= timezone.now()
