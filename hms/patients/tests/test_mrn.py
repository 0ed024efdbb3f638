import pytest
from hypothesis import given
from hypothesis import strategies as st

from hms.patients.models import Patient
from hms.patients.mrn import luhn_digit, mrn_format, mrn_is_valid
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_an_mrn_carries_a_luhn_check_digit():
    assert mrn_format(1234) == "000012344"
    assert luhn_digit("00001234") == "4"
    assert mrn_is_valid("00001234-4")


def test_a_mistyped_or_swapped_digit_fails_the_check():
    assert not mrn_is_valid("000012354")
    assert not mrn_is_valid("000021344")
    assert not mrn_is_valid("12344")


def test_each_registration_gets_a_different_valid_mrn():
    mrns = [PatientFactory().mrn for _ in range(5)]
    assert len(set(mrns)) == 5
    assert all(mrn_is_valid(mrn) for mrn in mrns)


def test_an_mrn_is_never_reused_after_a_record_is_deleted():
    first = PatientFactory()
    taken = first.mrn
    first.identifiers.all().delete()
    first.name_tokens.all().delete()
    Patient.objects.filter(pk=first.pk).delete()
    assert PatientFactory().mrn != taken


def test_the_database_refuses_two_patients_with_one_mrn():
    from django.db import IntegrityError

    patient = PatientFactory()
    other = PatientFactory()
    with pytest.raises(IntegrityError):
        Patient.objects.filter(pk=other.pk).update(mrn=patient.mrn)


def test_mrn_is_shown_with_a_dash_before_the_check_digit():
    patient = PatientFactory()
    assert patient.mrn_display == f"{patient.mrn[:8]}-{patient.mrn[8]}"


@given(st.integers(min_value=1, max_value=99_999_999), st.integers(0, 8), st.integers(1, 9))
def test_any_single_mistyped_digit_of_any_mrn_fails_the_check(serial, position, shift):
    mrn = mrn_format(serial)
    assert mrn_is_valid(mrn)
    digits = list(mrn)
    digits[position] = str((int(digits[position]) + shift) % 10)
    assert not mrn_is_valid("".join(digits))
