"""The administrator's audit trail page reads as people speak: a patient's events are found by
MRN, and rows name the patient (name and MRN) and spell out the details instead of showing
ids and raw dictionaries (issue 8, point 19)."""

import pytest
from django.urls import reverse

from hms.core.access import as_system
from hms.core.permissions import Role
from hms.patients.services import patient_merge, patient_update
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = reverse("core:audit-list")


def _listed(response) -> list[str]:
    return [event.action for event in response.context["page"]]


def test_a_patients_events_are_found_by_mrn_typed_with_or_without_its_dash(client_for, make_user):
    zoe = PatientFactory(given_name="Zoë", family_name="Quill")
    PatientFactory(given_name="Other", family_name="Person")
    patient_update(actor=make_user(Role.RECEPTIONIST), patient=zoe, city="Leeds")
    client = client_for(Role.ADMIN)
    for typed in (zoe.mrn, zoe.mrn_display, str(int(zoe.mrn[:8]))):
        assert _listed(client.get(URL, {"mrn": typed})) == ["patient.update", "patient.create"]
    assert _listed(client.get(URL, {"mrn": "99999999-9"})) == []


def test_rows_show_the_patients_name_and_mrn_and_readable_details(client_for, make_user):
    zoe = PatientFactory(given_name="Zoë", family_name="Quill")
    patient_update(
        actor=make_user(Role.RECEPTIONIST), patient=zoe, phone="07700 900555", city="Leeds"
    )
    page = client_for(Role.ADMIN).get(URL, {"mrn": zoe.mrn}).content.decode()
    assert "Zoë Quill" in page and zoe.mrn_display in page
    assert 'Changed:</dt> <dd class="d-inline">city, phone</dd>' in page
    assert "{&#x27;changed&#x27;" not in page  # no raw dictionary
    assert str(zoe.pk) not in page  # no internal id


def test_a_merge_row_names_both_records(client_for):
    survivor = PatientFactory(given_name="Ann", family_name="Keep")
    duplicate = PatientFactory(given_name="Anne", family_name="Keep")
    with as_system():
        patient_merge(actor=None, survivor=survivor, duplicate=duplicate, reason="same person")
    page = client_for(Role.ADMIN).get(URL, {"action": "patient.merge"}).content.decode()
    assert f"Ann Keep ({survivor.mrn_display})" in page
    assert f"Anne Keep ({duplicate.mrn_display})" in page
    assert str(survivor.pk) not in page and str(duplicate.pk) not in page
