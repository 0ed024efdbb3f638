"""The patient picker on booking forms: matches by name, MRN or phone, audits whom it lists,
and its field accepts an MRN with or without the dash."""

import pytest
from django import forms
from django.urls import reverse

from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.forms import PatientField
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_picker_lists_patients_by_name_and_audits_each_one(client_for):
    wanted = PatientFactory(given_name="Marisol", family_name="Quintero")
    PatientFactory(given_name="Other", family_name="Person")
    response = client_for(Role.RECEPTIONIST).get(reverse("patients:pick"), {"mrn": "Quinte"})
    assert response.status_code == 200
    assert f'data-pick="{wanted.mrn_display}"'.encode() in response.content
    assert b"Person" not in response.content
    assert AuditEvent.objects.filter(patient_ref=str(wanted.pk)).exists()


def test_the_picker_waits_for_two_characters(client_for):
    PatientFactory(family_name="Quintero")
    response = client_for(Role.RECEPTIONIST).get(reverse("patients:pick"), {"mrn": "Q"})
    assert b"data-pick" not in response.content


def test_the_picker_is_for_staff_who_read_demographics(client_for):
    assert client_for(Role.PATIENT).get(reverse("patients:pick")).status_code == 403


class _Form(forms.Form):
    mrn = PatientField()


def test_the_patient_field_takes_an_mrn_with_or_without_its_dash():
    patient = PatientFactory()
    for typed in (patient.mrn, patient.mrn_display):
        form = _Form({"mrn": typed})
        assert form.is_valid() and form.cleaned_data["mrn"] == patient
    form = _Form({"mrn": "Someone"})
    assert not form.is_valid()
    assert "Choose a patient from the list" in form.errors["mrn"][0]


def test_an_address_with_only_a_city_has_no_leading_comma():
    patient = PatientFactory.build(address_line="", city="Demo City", postal_code="", country="")
    assert patient.address_display == "Demo City"
    full = PatientFactory.build(
        address_line="1 High St", city="Demo City", postal_code="DC1 2AB", country="GB"
    )
    assert full.address_display == "1 High St, Demo City DC1 2AB, GB"
