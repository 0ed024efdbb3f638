"""Patients are served from cached JSON: never stale, built once per content, and a read or a
search costs a fixed number of queries whatever the page holds."""

import json
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import QuerySet, prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from hms.accounts.tests.factories import UserFactory
from hms.clinical.tests.factories import EncounterFactory
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.fhir import mappers
from hms.patients.models import IdentifierSystem, PatientIdentifier
from hms.patients.services import patient_identifier_remove, patient_update
from hms.patients.tests.factories import PatientFactory
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db
BASE = "/fhir/R4"
_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@pytest.fixture
def clerk(token_for):
    user = UserFactory(role=Role.RECEPTIONIST)
    return user, token_for(user)


@pytest.fixture
def builds(monkeypatch):
    """How many Patient resources fhir.resources built."""
    built = []
    original = mappers.patient_to_fhir

    def counting(patient):
        built.append(patient.pk)
        return original(patient)

    monkeypatch.setattr(mappers, "patient_to_fhir", counting)
    return built


def statements(client, url, token, **params) -> list[str]:
    client.get(url, params, **token)  # once first: the token's last-use time is written then
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params, **token)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured if not _TRANSACTION_CONTROL.match(q["sql"])]


def test_an_updated_patient_is_read_with_the_new_data_and_a_new_etag(client, clerk):
    user, token = clerk
    patient = PatientFactory(family_name="Okafor")
    url = f"{BASE}/Patient/{patient.pk}"
    first = client.get(url, **token)
    assert json.loads(first.content)["name"][0]["family"] == "Okafor"
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **token).status_code == 304
    patient_update(actor=user, patient=patient, family_name="Adeyemi")
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **token)
    assert second.status_code == 200
    assert json.loads(second.content)["name"][0]["family"] == "Adeyemi"
    assert second["ETag"] != first["ETag"]
    found = json.loads(client.get(f"{BASE}/Patient", {"family": "adeyemi"}, **token).content)
    assert [e["resource"]["meta"]["versionId"] for e in found["entry"]] == [
        json.loads(second.content)["meta"]["versionId"]
    ]


def test_a_removed_identifier_is_gone_at_once_though_the_row_did_not_change(client, clerk):
    user, token = clerk
    patient = PatientFactory()
    extra = PatientIdentifier.objects.create(
        patient=patient, system=IdentifierSystem.NATIONAL_ID, value="AB123"
    )
    url = f"{BASE}/Patient/{patient.pk}"
    first = client.get(url, **token)
    assert "AB123" in [i["value"] for i in json.loads(first.content)["identifier"]]
    patient_identifier_remove(actor=user, identifier=extra)
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **token)
    assert second.status_code == 200  # a new version: a client's copy is not "not modified"
    assert second["ETag"] != first["ETag"]
    assert "AB123" not in [i["value"] for i in json.loads(second.content)["identifier"]]


def test_a_patient_is_built_once_until_it_changes(client, clerk, builds):
    user, token = clerk
    patient = PatientFactory(family_name="Quist")
    url = f"{BASE}/Patient/{patient.pk}"
    for _ in range(3):
        assert client.get(url, **token).status_code == 200
    assert client.get(f"{BASE}/Patient", {"family": "quist"}, **token).status_code == 200
    assert builds == [patient.pk]
    patient_update(actor=user, patient=patient, given_name="Ama")
    assert json.loads(client.get(url, **token).content)["name"][0]["given"] == ["Ama"]
    assert builds == [patient.pk, patient.pk]


def test_every_read_and_every_patient_shown_is_audited_though_served_from_the_cache(client, clerk):
    _, token = clerk
    patients = [PatientFactory(family_name=f"Tamm{n}") for n in range(3)]
    for _ in range(2):
        client.get(f"{BASE}/Patient/{patients[0].pk}", **token)
        client.get(f"{BASE}/Patient", {"family": "tamm"}, **token)
    reads = AuditEvent.objects.filter(action="fhir.patient.read", patient_ref=str(patients[0].pk))
    assert reads.count() == 2
    for patient in patients:
        shown = AuditEvent.objects.filter(action="fhir.patient.search", patient_ref=str(patient.pk))
        assert shown.count() == 2


def test_another_patients_record_stays_hidden_when_it_is_cached(client, clerk, token_for):
    _, token = clerk
    me, other = PortalPatientFactory(), PatientFactory()
    assert client.get(f"{BASE}/Patient/{other.pk}", **token).status_code == 200  # now cached
    mine = token_for(me.user)
    assert client.get(f"{BASE}/Patient/{other.pk}", **mine).status_code == 404
    found = json.loads(client.get(f"{BASE}/Patient", **mine).content)
    assert [e["resource"]["id"] for e in found["entry"]] == [str(me.pk)]


def test_a_patient_read_costs_four_queries(client, clerk):
    _, token = clerk
    patient = PatientFactory()
    PatientIdentifier.objects.create(
        patient=patient, system=IdentifierSystem.NATIONAL_ID, value="CD456"
    )
    # The token, the patient (access check), its identifiers, the audit row.
    assert len(statements(client, f"{BASE}/Patient/{patient.pk}", token)) == 4


@pytest.mark.parametrize("shown", [1, 10])
def test_a_patient_search_costs_four_queries_whatever_the_page_holds(client, clerk, shown):
    _, token = clerk
    for n in range(shown):
        PatientFactory(family_name=f"Varga{n}")
    sql = statements(client, f"{BASE}/Patient", token, family="varga", _count=10)
    # The token, the page of patients, their identifiers, the audit rows (one insert).
    assert len(sql) == 4, "\n".join(sql)


def identifier_querysets_built(client, token, monkeypatch, **params) -> int:
    """How many QuerySets of identifiers a search built (the queries aside: Python work)."""
    built = []
    original = QuerySet.__init__

    def counting(self, model=None, *args, **kwargs):
        if model is PatientIdentifier:
            built.append(model)
        original(self, model, *args, **kwargs)

    client.get(f"{BASE}/Patient", params, **token)  # the token's last-use time written first
    caches["fhir"].clear()  # served the first time: every patient is built
    monkeypatch.setattr(QuerySet, "__init__", counting)
    response = client.get(f"{BASE}/Patient", params, **token)
    monkeypatch.undo()
    assert response.status_code == 200
    return len(built)


def test_a_search_page_builds_no_identifier_queryset_per_patient(client, clerk, monkeypatch):
    _, token = clerk
    PatientFactory(family_name="Kovacs")
    for n in range(10):
        patient = PatientFactory(family_name=f"Varga{n}")
        PatientIdentifier.objects.create(
            patient=patient, system=IdentifierSystem.NATIONAL_ID, value=f"V{n}"
        )
    one = identifier_querysets_built(client, token, monkeypatch, family="kovacs")
    ten = identifier_querysets_built(client, token, monkeypatch, family="varga", _count=10)
    assert ten == one


def test_identifiers_are_shown_in_the_order_recorded_whether_prefetched_or_not(clerk):
    patient = PatientFactory()
    for value in ("B2", "A1", "C3"):
        PatientIdentifier.objects.create(
            patient=patient, system=IdentifierSystem.NATIONAL_ID, value=value
        )
    read_now = mappers.patient_to_fhir(patient)
    prefetch_related_objects([patient], mappers.PATIENT_IDENTIFIERS)
    with CaptureQueriesContext(connection) as captured:
        prefetched = mappers.patient_to_fhir(patient)
    assert len(captured) == 0
    assert [i.value for i in prefetched.identifier[1:]] == ["B2", "A1", "C3"]
    assert prefetched.identifier == read_now.identifier


@pytest.mark.parametrize("patients", [1, 3])
def test_included_patients_are_read_in_a_fixed_number_of_queries_and_each_audited(
    client, token_for, patients
):
    token = token_for(UserFactory(role=Role.DOCTOR))
    encounters = [EncounterFactory() for _ in range(patients)]
    sql = statements(client, f"{BASE}/Encounter", token, _include="Encounter:patient")
    # The token, the encounters (one query with what their mapper reads), the patients, their
    # identifiers, the audit rows of the patients shown and of those included (one insert each).
    assert len(sql) == 6, "\n".join(sql)
    found = json.loads(
        client.get(f"{BASE}/Encounter", {"_include": "Encounter:patient"}, **token).content
    )
    included = [e["resource"]["id"] for e in found["entry"] if e["search"]["mode"] == "include"]
    assert sorted(included) == sorted(str(e.patient_id) for e in encounters)
    for encounter in encounters:
        reads = AuditEvent.objects.filter(
            action="fhir.patient.read", patient_ref=str(encounter.patient_id)
        )
        assert reads.count() == 3  # the warm-up, the counted request and the last one
