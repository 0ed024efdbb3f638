import datetime

import pytest

from hms.core.errors import NotAllowed
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.search import parse_query, patient_search
from hms.patients.services import patient_merge
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user(Role.RECEPTIONIST)


@pytest.fixture
def people():
    return {
        "maria": PatientFactory(
            given_name="María", family_name="García López", phone="+34 612 345 678",
            birth_date=datetime.date(1984, 3, 12),
        ),
        "john": PatientFactory(
            given_name="John", family_name="Smith", phone="07700 900123",
            birth_date=datetime.date(1990, 7, 1),
        ),
        "joan": PatientFactory(
            given_name="Joan", family_name="Smithers", phone="07700 111222",
            birth_date=datetime.date(1975, 1, 30),
        ),
    }  # fmt: skip


def found(user, query, **kwargs):
    return [p.pk for p in patient_search(user=user, query=query, **kwargs).patients]


def test_a_name_is_found_without_its_accents_and_in_any_case(clerk, people):
    assert found(clerk, "maria garcia") == [people["maria"].pk]
    assert found(clerk, "GARCÍA") == [people["maria"].pk]


def test_a_name_is_found_by_the_start_of_its_words_in_any_order(clerk, people):
    assert found(clerk, "smi jo") == [people["john"].pk, people["joan"].pk]
    assert found(clerk, "lop mar") == [people["maria"].pk]


def test_a_name_with_one_typo_is_still_found(clerk, people):
    page = patient_search(user=clerk, query="Jhon Smith")
    assert [p.pk for p in page.patients] == [people["john"].pk]
    assert page.corrected == ["john", "smith"]


def test_an_mrn_is_found_with_or_without_dash_and_check_digit(clerk, people):
    maria = people["maria"]
    serial = maria.mrn[:8]
    for query in (
        maria.mrn,
        maria.mrn_display,
        serial,
        str(int(serial)),
        f"{int(serial)}-{maria.mrn[8]}",
    ):
        assert found(clerk, query) == [maria.pk], query


def test_an_mrn_with_a_wrong_check_digit_finds_nobody(clerk, people):
    wrong = str((int(people["maria"].mrn[8]) + 1) % 10)
    assert found(clerk, f"{people['maria'].mrn[:8]}-{wrong}") == []


def test_a_phone_is_found_whatever_its_spacing(clerk, people):
    assert found(clerk, "+34612345678") == [people["maria"].pk]
    assert found(clerk, "07700 900 123") == [people["john"].pk]
    assert set(found(clerk, "07700")) == {people["john"].pk, people["joan"].pk}


def test_a_phone_is_found_in_national_international_and_partial_forms(clerk):
    patient = PatientFactory(phone="+447700900555")
    for query in (
        "+447700900555",
        "+44 7700 900555",
        "0044 7700 900555",
        "07700 900555",
        "07700900555",
        "(07700) 900-555",
        "7700 900555",
        "900555",
        "0555",
        "07700 900",
    ):
        assert found(clerk, query) == [patient.pk], query


def test_a_phone_search_finds_nobody_for_digits_no_number_has(clerk, people):
    assert found(clerk, "900556") == []
    assert found(clerk, "+33 7700 900123") == []


def test_a_phone_search_takes_three_queries_whatever_the_registry_size(
    clerk, people, django_assert_num_queries
):
    # The phone keys (index range), the matching patients' sort keys, the page's patients.
    with django_assert_num_queries(3):
        page = patient_search(user=clerk, query="900123", audit=False)
    assert [p.pk for p in page.patients] == [people["john"].pk]


def test_a_birth_date_is_found_in_iso_or_day_month_year(clerk, people):
    assert found(clerk, "1984-03-12") == [people["maria"].pk]
    assert found(clerk, "12/03/1984") == [people["maria"].pk]
    assert found(clerk, "smith 30/01/1975") == [people["joan"].pk]


def test_results_come_in_pages(clerk):
    for n in range(5):
        PatientFactory(family_name="Pagewood", given_name=f"Ann{chr(97 + n)}")
    first = patient_search(user=clerk, query="pagewood", page_size=2)
    third = patient_search(user=clerk, query="pagewood", page_size=2, page=3)
    assert len(first.patients) == 2 and first.has_next and not first.has_previous
    assert len(third.patients) == 1 and not third.has_next and third.has_previous


def test_a_merged_duplicate_is_hidden_from_search(clerk, people, make_user):
    duplicate = PatientFactory(given_name="Jon", family_name="Smith")
    patient_merge(actor=make_user(Role.ADMIN), survivor=people["john"], duplicate=duplicate)
    assert duplicate.pk not in found(clerk, "smith")


def test_nonsense_input_finds_nothing_and_never_fails(clerk, people):
    for query in ("%", "_", "'; drop table", "////", "99/99/9999", "-", "ü" * 300):
        assert isinstance(found(clerk, query), list)


def test_a_patient_user_may_not_search(make_user, people):
    with pytest.raises(NotAllowed):
        patient_search(user=make_user(Role.PATIENT), query="smith")


def test_a_search_leaves_an_audit_row(clerk, people):
    patient_search(user=clerk, query="smith")
    event = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert event.actor == clerk and event.details["query"] == "smith"


def test_the_search_box_tells_mrn_phone_date_and_name_apart():
    assert parse_query("00001234-4").mrns == ["000012344"]
    assert "447700900123" in parse_query("+44 7700 900123").phones
    assert parse_query("1984-03-12").birth_date == datetime.date(1984, 3, 12)
    assert parse_query("Zoë O'Brien").words == ["zoe", "o", "brien"]


def test_a_patient_matching_the_scanned_word_twice_is_listed_once(clerk):
    maria = PatientFactory(given_name="Maria", family_name="Martinez")
    assert found(clerk, "mar") == [maria.pk]


def test_an_unmerged_record_is_found_again(clerk, people, make_user):
    from hms.patients.services import patient_unmerge

    admin = make_user(Role.ADMIN)
    duplicate = PatientFactory(given_name="Jon", family_name="Smith")
    merge = patient_merge(actor=admin, survivor=people["john"], duplicate=duplicate)
    patient_unmerge(actor=admin, merge=merge)
    assert duplicate.pk in found(clerk, "jon smith")


def test_an_empty_search_lists_the_newest_registrations_first(clerk, people):
    assert found(clerk, "")[:1] == [people["joan"].pk]


def test_the_unused_trigram_indexes_are_gone_on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes only ever existed on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%trgm"])
        assert cursor.fetchall() == []
