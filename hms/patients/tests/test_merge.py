from collections import defaultdict

import pytest

from hms.core import events
from hms.core.errors import Conflict, DomainError
from hms.core.events import subscribe
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.patients.models import IdentifierSystem, Patient, PatientIdentifier, PatientMerge
from hms.patients.selectors import patient_of_user
from hms.patients.services import patient_merge, patient_unmerge
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

heard: list[tuple[str, dict]] = []


def _heard_merge(**payload):
    heard.append(("patient.merged", payload))
    payload["merge"].record_moved("test.thing", ["thing-1"])


def _heard_unmerge(**payload):
    heard.append(("patient.unmerged", payload))


@pytest.fixture(autouse=True)
def _listening(monkeypatch):
    """Subscribers standing in for clinical/scheduling/billing, for these tests only."""
    handlers = defaultdict(list, {k: list(v) for k, v in events._handlers.items()})
    monkeypatch.setattr(events, "_handlers", handlers)
    subscribe("patient.merged")(_heard_merge)
    subscribe("patient.unmerged")(_heard_unmerge)
    heard.clear()


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def pair(make_user):
    survivor = PatientFactory(given_name="Jonathan", family_name="Smith")
    duplicate = PatientFactory(
        given_name="Jonathon",
        family_name="Smith",
        user=make_user(Role.PATIENT),
        identifiers=[{"system": IdentifierSystem.PASSPORT, "value": "P1234567"}],
    )
    return survivor, duplicate


def test_a_merge_points_the_duplicate_at_the_survivor_and_moves_identifiers_and_portal_account(
    admin, pair
):
    survivor, duplicate = pair
    account = duplicate.user
    merge = patient_merge(actor=admin, survivor=survivor, duplicate=duplicate, reason="same person")
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert survivor.user == account and duplicate.user is None
    assert PatientIdentifier.objects.get(value="P1234567").patient == survivor
    assert patient_of_user(account) == survivor
    assert set(merge.moved_counts()) >= {
        "patients.patientidentifier",
        "accounts.user",
        "test.thing",
    }


def test_a_merge_announces_itself_so_other_apps_move_their_rows(admin, pair):
    survivor, duplicate = pair
    merge = patient_merge(actor=admin, survivor=survivor, duplicate=duplicate)
    name, payload = heard[0]
    assert name == "patient.merged"
    assert payload["survivor"].pk == survivor.pk and payload["duplicate"].pk == duplicate.pk
    assert payload["actor"] == admin and payload["merge_id"] == str(merge.pk)
    assert PatientMerge.objects.get(pk=merge.pk).moved_ids("test.thing") == ["thing-1"]


def test_a_merge_leaves_an_audit_row_on_both_records(admin, pair):
    survivor, duplicate = pair
    patient_merge(actor=admin, survivor=survivor, duplicate=duplicate)
    refs = set(
        AuditEvent.objects.filter(action="patient.merge").values_list("patient_ref", flat=True)
    )
    assert refs == {str(survivor.pk), str(duplicate.pk)}


def test_an_unmerge_puts_everything_back_and_announces_it(admin, pair):
    survivor, duplicate = pair
    account = duplicate.user
    merge = patient_merge(actor=admin, survivor=survivor, duplicate=duplicate)
    patient_unmerge(actor=admin, merge=merge)
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    merge.refresh_from_db()
    assert duplicate.merged_into is None and duplicate.user == account and survivor.user is None
    assert PatientIdentifier.objects.get(value="P1234567").patient == duplicate
    assert merge.undone_at is not None and merge.undone_by == admin
    assert heard[-1][0] == "patient.unmerged"
    assert heard[-1][1]["merge"].moved_ids("test.thing") == ["thing-1"]
    assert AuditEvent.objects.filter(action="patient.unmerge").count() == 2


def test_a_merge_cannot_be_undone_twice(admin, pair):
    merge = patient_merge(actor=admin, survivor=pair[0], duplicate=pair[1])
    patient_unmerge(actor=admin, merge=merge)
    with pytest.raises(Conflict):
        patient_unmerge(actor=admin, merge=merge)


def test_a_record_cannot_be_merged_into_itself_or_merged_twice(admin, pair):
    survivor, duplicate = pair
    with pytest.raises(DomainError):
        patient_merge(actor=admin, survivor=survivor, duplicate=survivor)
    patient_merge(actor=admin, survivor=survivor, duplicate=duplicate)
    with pytest.raises(Conflict):
        patient_merge(actor=admin, survivor=PatientFactory(), duplicate=duplicate)


def test_two_records_with_portal_accounts_are_not_merged(admin, make_user, pair):
    survivor = PatientFactory(user=make_user(Role.PATIENT))
    with pytest.raises(Conflict):
        patient_merge(actor=admin, survivor=survivor, duplicate=pair[1])
    assert Patient.objects.get(pk=pair[1].pk).merged_into is None


def test_an_admin_merges_and_unmerges_from_the_merge_page(client_for, pair):
    survivor, duplicate = pair
    client = client_for(Role.ADMIN)
    data = {"survivor": survivor.mrn_display, "duplicate": duplicate.mrn, "reason": "same"}
    review = client.post("/patients/merge/", data)
    assert review.status_code == 200 and b"Merge these records" in review.content
    done = client.post("/patients/merge/", {**data, "confirm": "1"})
    assert done.status_code == 302
    merge = survivor.merges_kept.get()
    assert client.post(f"/patients/merges/{merge.pk}/undo/").status_code == 302
    assert Patient.objects.get(pk=duplicate.pk).merged_into is None


def test_the_merge_page_explains_an_unknown_mrn(client_for):
    response = client_for(Role.ADMIN).post(
        "/patients/merge/", {"survivor": "123", "duplicate": "00000001-8"}
    )
    assert response.status_code == 200 and b"No patient has this MRN" in response.content


def test_a_receptionist_may_not_merge(client_for):
    assert client_for(Role.RECEPTIONIST).get("/patients/merge/").status_code == 403
