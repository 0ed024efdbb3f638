import datetime

import pytest

from hms.core.permissions import Role
from hms.patients.duplicates import patient_find_possible_duplicates
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
BORN = datetime.date(1984, 3, 12)


def matches(**kwargs):
    return [m.patient for m in patient_find_possible_duplicates(**kwargs)]


def test_a_name_with_a_typo_and_the_same_birth_date_is_offered_as_a_match():
    existing = PatientFactory(given_name="Jonathan", family_name="Smith", birth_date=BORN)
    assert matches(given_name="Jonathon", family_name="Smith", birth_date=BORN) == [existing]


def test_swapped_given_and_family_names_are_offered_as_a_match():
    existing = PatientFactory(given_name="Wei", family_name="Zhang", birth_date=BORN)
    assert matches(given_name="Zhang", family_name="Wei", birth_date=BORN) == [existing]


def test_accents_do_not_hide_a_match():
    existing = PatientFactory(given_name="José", family_name="Müller", birth_date=BORN)
    assert matches(given_name="jose", family_name="MULLER", birth_date=BORN) == [existing]


def test_the_same_phone_with_a_similar_name_is_a_match_whatever_the_birth_date():
    existing = PatientFactory(given_name="Amara", family_name="Okoye", phone="+44 7700 900123")
    found = patient_find_possible_duplicates(
        given_name="Amara",
        family_name="Okoye",
        birth_date=datetime.date(1999, 1, 1),
        phone="+447700900123",
    )
    assert [m.patient for m in found] == [existing]
    assert "same phone" in found[0].reasons


def test_a_different_name_with_the_same_birth_date_is_not_a_match():
    PatientFactory(given_name="Jonathan", family_name="Smith", birth_date=BORN)
    assert matches(given_name="Priya", family_name="Raman", birth_date=BORN) == []


def test_a_similar_name_with_another_birth_date_and_phone_is_not_a_match():
    PatientFactory(given_name="Jonathan", family_name="Smith", birth_date=BORN)
    assert (
        matches(given_name="Jonathan", family_name="Smith", birth_date=datetime.date(1990, 1, 1))
        == []
    )


def test_a_merged_record_is_never_offered(make_user):
    from hms.patients.services import patient_merge

    survivor = PatientFactory(given_name="Jonathan", family_name="Smith", birth_date=BORN)
    duplicate = PatientFactory(given_name="Jonathon", family_name="Smith", birth_date=BORN)
    patient_merge(actor=make_user(Role.ADMIN), survivor=survivor, duplicate=duplicate)
    assert matches(given_name="Jonathan", family_name="Smith", birth_date=BORN) == [survivor]
