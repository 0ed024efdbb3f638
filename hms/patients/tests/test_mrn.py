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


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_mrns():
    import threading

    from django.db import connections, transaction

    from hms.patients.mrn import mrn_allocate

    taken: list[str] = []
    start = threading.Barrier(8)

    def allocate() -> None:
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    taken.append(mrn_allocate())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 40 and len(set(taken)) == 40


@pytest.mark.django_db(transaction=True)
def test_an_open_registration_does_not_hold_up_the_next_one():
    """The old counter row stayed locked until the registering transaction committed; a sequence
    is not locked. (PostgreSQL only: SQLite lets one writer in at a time anyway.)"""
    import threading

    from django.db import connection, connections, transaction

    from hms.patients.mrn import mrn_allocate

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write transaction")
    allocated, release = threading.Event(), threading.Event()

    def slow_registration() -> None:
        try:
            with transaction.atomic():
                mrn_allocate()
                allocated.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=slow_registration)
    holder.start()
    try:
        assert allocated.wait(5)
        done = threading.Event()

        def quick_registration() -> None:
            try:
                with transaction.atomic():
                    mrn_allocate()
                done.set()
            finally:
                connections.close_all()

        quick = threading.Thread(target=quick_registration)
        quick.start()
        assert done.wait(5), "the second allocation waited for the first transaction"
        quick.join()
    finally:
        release.set()
        holder.join()
