"""Security review of the clinical pages: a form sent back with errors re-displays the record,
and that read is audited with the patient like any other."""

import pytest
from django.urls import reverse

from hms.clinical.tests.factories import EncounterFactory, LabOrderFactory
from hms.core.models import AuditEvent
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_an_encounter_page_shown_again_with_form_errors_is_audited(client_for):
    encounter = EncounterFactory()
    client = client_for(Role.NURSE)
    response = client.post(
        reverse("clinical:vitals-add", args=[encounter.pk]), {"pulse_per_min": "x"}
    )
    assert response.status_code == 400
    assert AuditEvent.objects.filter(
        action="encounter.view", patient_ref=str(encounter.patient_id), actor=client.user
    ).exists()


def test_a_lab_order_page_shown_again_with_form_errors_is_audited(client_for):
    order = LabOrderFactory()
    client = client_for(Role.LAB)
    response = client.post(reverse("clinical:lab-result-add", args=[order.pk]), {"value": "x"})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(
        action="laborder.view", patient_ref=str(order.patient_id), actor=client.user
    ).exists()


def test_the_icd10_search_tells_a_patient_nothing(client_for):
    client = client_for(Role.PATIENT)
    assert client.get(reverse("clinical:icd10-search"), {"q": "I10"}).status_code == 403
    assert client.get("/api/v1/icd10/", {"q": "I10"}).status_code == 403


def test_a_huge_prescription_quantity_is_a_form_error_not_a_crash(client_for):
    encounter = EncounterFactory()
    client = client_for(Role.DOCTOR)
    data = {"drug": "Paracetamol", "quantity": "9" * 30}
    response = client.post(reverse("clinical:prescription-add", args=[encounter.pk]), data)
    assert response.status_code == 400
    body = {"encounter": str(encounter.pk), "drug": "Paracetamol", "quantity": 10**30}
    response = client.post("/api/v1/prescriptions/", body, content_type="application/json")
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_back_link_after_stopping_a_prescription_stays_on_this_site(client_for, target):
    from hms.clinical.tests.factories import PrescriptionFactory

    prescription = PrescriptionFactory()
    client = client_for(Role.DOCTOR)
    response = client.post(
        reverse("clinical:prescription-stop", args=[prescription.pk]), {"next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:chart", args=[prescription.patient_id])


def test_nothing_is_recorded_on_a_stale_copy_of_a_just_merged_record(make_user):
    from hms.clinical import services
    from hms.clinical.models import Allergy, Encounter
    from hms.core.errors import Conflict
    from hms.patients.services import patient_merge
    from hms.patients.tests.factories import PatientFactory

    doctor = make_user(Role.DOCTOR)
    stale = PatientFactory()
    patient_merge(actor=make_user(Role.ADMIN), survivor=PatientFactory(), duplicate=stale)
    assert stale.merged_into_id is None  # the caller's copy does not know yet
    with pytest.raises(Conflict):
        services.encounter_open(actor=doctor, patient=stale)
    with pytest.raises(Conflict):
        services.allergy_record(actor=doctor, patient=stale, substance="Latex")
    assert not Encounter.objects.filter(patient=stale).exists()
    assert not Allergy.objects.filter(patient=stale).exists()
