"""A refused read of a patient's record (403 or 404) leaves an audit row naming the patient
asked for, as every granted read does; lists of patients audit every name they show."""

import uuid

import pytest

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _denied(patient_ref: str):
    return AuditEvent.objects.filter(action__endswith="_denied", patient_ref=patient_ref)


def test_a_patient_refused_another_patients_record_leaves_a_denied_row(client_for, make_user):
    other = PatientFactory()
    client = client_for(Role.PATIENT)
    assert client.get(f"/api/v1/patients/{other.pk}/").status_code == 404
    (event,) = _denied(str(other.pk))
    assert event.action == "patient.view_denied" and event.actor == client.user


def test_a_page_refused_to_the_role_leaves_a_denied_row(client_for):
    other = PatientFactory()
    client = client_for(Role.PATIENT)
    assert client.get(f"/patients/{other.pk}/").status_code == 403
    (event,) = _denied(str(other.pk))
    assert event.action == "patient.access_denied" and event.actor == client.user


def test_an_unknown_patient_id_is_refused_and_recorded(client_for):
    asked = str(uuid.uuid4())
    assert client_for(Role.NURSE).get(f"/api/v1/patients/{asked}/").status_code == 404
    assert _denied(asked).count() == 1


def test_a_role_refused_a_part_of_the_record_leaves_a_denied_row(client_for):
    patient = PatientFactory()
    client = client_for(Role.BILLING)
    response = client.get("/api/v1/prescriptions/", {"patient": str(patient.pk)})
    assert response.status_code == 404
    (event,) = _denied(str(patient.pk))
    assert event.action == "prescription.list_view_denied"


def test_the_merge_page_audits_every_patient_its_list_shows(client_for):
    from hms.patients.services import patient_merge

    client = client_for(Role.ADMIN)
    survivor, duplicate = PatientFactory(), PatientFactory()
    patient_merge(actor=client.user, survivor=survivor, duplicate=duplicate, reason="same person")
    assert client.get("/patients/merge/").status_code == 200
    shown = AuditEvent.objects.filter(action="patient.merge_list")
    assert set(shown.values_list("patient_ref", flat=True)) == {str(survivor.pk), str(duplicate.pk)}


def test_an_api_call_refused_to_the_role_leaves_a_denied_row(client_for):
    patient = PatientFactory()
    client = client_for(Role.BILLING)
    response = client.get("/api/v1/vitals/", {"patient": str(patient.pk)})
    assert response.status_code == 403
    (event,) = _denied(str(patient.pk))
    assert event.action == "patient.access_denied" and event.actor == client.user
