"""The benches' patients (bench/patient_search.py's seed, also fhir_bench's): written directly,
searchable, and registrations after them get the next MRNs."""

import random

import pytest

from bench.patient_search import seed
from hms.patients.models import Patient, PatientNameToken, PatientPhoneToken
from hms.patients.mrn import mrn_allocate, mrn_format


@pytest.mark.django_db(
    transaction=True, reset_sequences=True
)  # MRNs from 1, as in a new bench database
def test_seeded_patients_are_searchable_and_new_mrns_continue_after_them():
    families = seed(40, random.Random(1))
    assert Patient.objects.count() == 40
    assert families == sorted(set(Patient.objects.values_list("family_name", flat=True)))
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == sorted(
        mrn_format(serial) for serial in range(1, 41)
    )
    assert PatientNameToken.objects.count() >= 80 and PatientPhoneToken.objects.exists()
    assert mrn_allocate() == mrn_format(41)
