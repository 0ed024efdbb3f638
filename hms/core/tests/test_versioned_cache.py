"""Cached reads that a committed change makes stale at once (hms/core/versioned_cache.py), the
patients' versions the audit trail keeps, and the notices pages show."""

import pytest
from django.urls import reverse

from hms.core import versioned_cache
from hms.core.audit import audit_record, audit_record_patients
from hms.core.notifications import notification_mark_read, notify, recent_notices
from hms.core.patient_cache import cached_for_patient, is_change
from hms.core.permissions import Role


class Reads:
    """A read that counts its calls and returns what `value` holds."""

    def __init__(self, value="first"):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def _cached(read: Reads):
    return versioned_cache.cached_while_unchanged(
        key="test:entry", version_key="test:version", read=read, seconds=60
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_an_entry_is_served_until_its_version_changes(django_capture_on_commit_callbacks):
    read = Reads()
    assert _cached(read) == _cached(read) == "first"
    assert read.calls == 1
    read.value = "second"
    with django_capture_on_commit_callbacks(execute=True):
        versioned_cache.versions_changed(["test:version"])
    assert _cached(read) == "second"
    assert read.calls == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_a_change_committed_while_the_data_is_read_is_never_served(
    django_capture_on_commit_callbacks,
):
    def read_then_change():
        with django_capture_on_commit_callbacks(execute=True):
            versioned_cache.versions_changed(["test:version"])
        return "read before the change"

    _cached(read_then_change)
    read = Reads("after the change")
    assert _cached(read) == "after the change"


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_a_change_is_not_seen_before_its_transaction_commits(django_capture_on_commit_callbacks):
    read = Reads()
    _cached(read)
    with django_capture_on_commit_callbacks(execute=False):
        versioned_cache.versions_changed(["test:version"])
    assert _cached(read) == "first"
    assert read.calls == 1


def test_without_a_shared_cache_every_call_reads_afresh():
    read = Reads()
    _cached(read)
    _cached(read)
    assert read.calls == 2


def test_reads_keep_a_patients_version_and_everything_else_changes_it():
    reads = ["appointment.view", "appointment.list", "patient.search_result",
             "encounter.worklist_view", "fhir.patient.read", "patient.search"]  # fmt: skip
    changes = ["appointment.book", "appointment.cancel", "patient.merge", "reminder.opt_out",
               "fhir.appointment.read_for_update", "anything.new"]  # fmt: skip
    assert [a for a in reads if is_change(a)] == []
    assert [a for a in changes if not is_change(a)] == []


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_an_audited_change_to_a_patient_gives_them_a_new_version(
    django_capture_on_commit_callbacks,
):
    def patient_read(value):
        return lambda: ("patient-1", value)

    def cached(value):
        return cached_for_patient(key="test:patient-entry", read=patient_read(value))

    assert cached("first") == ("first", None)  # stored without a version
    data, version = cached("first")
    assert data == "first" and version is not None
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(action="appointment.view", patient="patient-1")
        audit_record_patients(action="patient.search_result", patients=["patient-1"])
    assert cached("second") == ("first", version)
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(action="appointment.book", patient="patient-1")
    data, changed = cached("second")
    assert data == "second" and changed not in (None, version)
    with django_capture_on_commit_callbacks(execute=True):
        audit_record_patients(action="patient.merge", patients=["patient-1"])
    assert cached("third")[0] == "third"


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_an_entry_now_of_another_patient_follows_that_patients_version(
    django_capture_on_commit_callbacks,
):
    def cached(patient_id, value):
        return cached_for_patient(key="test:moved-entry", read=lambda: (patient_id, value))[0]

    cached("patient-1", "first")
    assert cached("patient-1", "first") == "first"  # the entry is now guessed to be patient-1's
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(action="patient.merge", patient="patient-1")
    assert cached("patient-2", "second") == "second"  # the account's record is now patient-2
    assert cached("patient-2", "second") == "second"
    assert cached("patient-2", "not read") == "second"
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(action="appointment.book", patient="patient-2")
    assert cached("patient-2", "third") == "third"


@pytest.mark.django_db
@pytest.mark.usefixtures("shared_cache")
def test_a_new_or_read_notification_shows_on_the_dashboard_at_once(
    client_for, make_user, django_capture_on_commit_callbacks
):
    user = make_user(Role.PATIENT)
    client = client_for(Role.PATIENT, user=user)
    client.get(reverse("core:dashboard"))
    assert recent_notices(user, limit=5, unread_only=True) == []
    with django_capture_on_commit_callbacks(execute=True):
        notice = notify(user=user, title="Your results are ready")
    assert b"Your results are ready" in client.get(reverse("core:dashboard")).content
    with django_capture_on_commit_callbacks(execute=True):
        notification_mark_read(user=user, notification_id=notice.pk)
    assert b"Your results are ready" not in client.get(reverse("core:dashboard")).content
