"""The FHIR server: every answer validates with fhir.resources, errors are OperationOutcomes with
the right status, tokens see what their role's scopes allow, and every access is audited."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from hms.accounts.tests.factories import UserFactory
from hms.clinical.models import ICD10_SYSTEM
from hms.clinical.tests.factories import (
    AllergyFactory,
    EncounterFactory,
    LabResultFactory,
    PrescriptionFactory,
    VitalsFactory,
)
from hms.core.models import AuditEvent, Hospital
from hms.core.permissions import Role
from hms.fhir.tests.conftest import at
from hms.patients.models import Patient
from hms.patients.tests.factories import PatientFactory
from hms.scheduling import services as scheduling
from hms.scheduling.tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db
BASE = "/fhir/R4"


def valid(response, expected_type: str | None = None):
    """The body as a validated fhir.resources object (every resource we emit must be one)."""
    assert response["Content-Type"].startswith("application/fhir+json"), response["Content-Type"]
    data = json.loads(response.content)
    resource = get_fhir_model_class(data["resourceType"]).model_validate(data)
    if expected_type:
        assert resource.get_resource_type() == expected_type, data
    return resource


def outcome(response, status: int) -> str:
    assert response.status_code == status, response.content
    resource = valid(response, "OperationOutcome")
    return resource.issue[0].code


@pytest.fixture
def staff(token_for):
    def make(role=Role.DOCTOR):
        user = UserFactory(role=role)
        return user, token_for(user)

    return make


def test_metadata_is_a_valid_capability_statement_listing_what_is_served(client):
    response = client.get(f"{BASE}/metadata")
    assert response.status_code == 200
    statement = valid(response, "CapabilityStatement")
    served = {r.type: r for r in statement.rest[0].resource}
    assert set(served) == {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Encounter",
        "Observation",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "Appointment",
        "Schedule",
        "Slot",
    }
    assert {i.code for i in served["Patient"].interaction} == {
        "read",
        "search-type",
        "create",
        "update",
    }
    assert {i.code for i in served["Observation"].interaction} == {"read", "search-type"}
    assert {p.name for p in served["Patient"].searchParam} >= {
        "identifier",
        "name",
        "family",
        "given",
        "birthdate",
        "gender",
        "phone",
    }
    # Every type and parameter the statement names is answered (no promise left unkept).
    for name, entry in served.items():
        for param in entry.searchParam:
            if param.name in ("_count", "_offset"):
                continue
            assert client.get(f"{BASE}/{name}", {param.name: "x"}).status_code != 500


def test_a_patient_read_is_valid_versioned_and_answers_304_to_its_etag(client, staff):
    _, token = staff(Role.RECEPTIONIST)
    patient = PatientFactory(phone="+447700900555", email="ann@example.org")
    response = client.get(
        f"{BASE}/Patient/{patient.pk}", HTTP_ACCEPT="application/fhir+json", **token
    )
    assert response.status_code == 200
    resource = valid(response, "Patient")
    assert resource.id == str(patient.pk)
    assert resource.birthDate == patient.birth_date
    assert resource.name[0].family == patient.family_name
    assert resource.identifier[0].value == patient.mrn_display
    assert resource.meta.versionId and resource.meta.lastUpdated
    etag = response["ETag"]
    assert etag == f'W/"{resource.meta.versionId}"'
    again = client.get(f"{BASE}/Patient/{patient.pk}", HTTP_IF_NONE_MATCH=etag, **token)
    assert again.status_code == 304 and again.content == b""
    Patient.objects.filter(pk=patient.pk).update(updated_at=timezone.now())
    changed = client.get(f"{BASE}/Patient/{patient.pk}", HTTP_IF_NONE_MATCH=etag, **token)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert AuditEvent.objects.filter(action="fhir.patient.read", patient_ref=str(patient.pk))


def test_errors_are_operation_outcomes_with_the_right_status(client, staff):
    _, token = staff(Role.DOCTOR)
    assert outcome(client.get(f"{BASE}/Patient/{PatientFactory().pk}"), 401) == "login"
    bad = {"HTTP_AUTHORIZATION": "Bearer nonsense"}
    assert outcome(client.get(f"{BASE}/Patient", **bad), 401) == "login"
    missing = "00000000-0000-0000-0000-000000000000"
    assert outcome(client.get(f"{BASE}/Patient/{missing}", **token), 404) == "not-found"
    assert outcome(client.get(f"{BASE}/Observation/nope", **token), 404) == "not-found"
    assert outcome(client.get(f"{BASE}/Patient", {"shoe-size": "9"}, **token), 400) == "invalid"
    assert outcome(client.get(f"{BASE}/Patient", {"birthdate": "soon"}, **token), 400)
    assert outcome(client.get(f"{BASE}/Patient", {"_count": "-1"}, **token), 400)
    billing = staff(Role.BILLING)[1]
    assert outcome(client.get(f"{BASE}/Observation", **billing), 403) == "forbidden"
    assert outcome(client.get(f"{BASE}/Condition", **billing), 403) == "forbidden"


def test_patient_search_by_each_parameter_pages_with_next_links(client, staff):
    _, token = staff(Role.RECEPTIONIST)
    ann = PatientFactory(
        given_name="Ann",
        family_name="Zeller",
        birth_date=date(1980, 5, 1),
        sex="female",
        phone="+447700900555",
    )
    PatientFactory(
        given_name="Bob", family_name="Zellweger", birth_date=date(1990, 1, 1), sex="male"
    )

    def ids(params):
        response = client.get(f"{BASE}/Patient", params, **token)
        assert response.status_code == 200, response.content
        found = valid(response, "Bundle")
        assert found.type == "searchset"
        return [e.resource.id for e in found.entry or []]

    assert ids({"family": "zell"}) and len(ids({"family": "zell"})) == 2
    assert ids({"name": "ann"}) == [str(ann.pk)]
    assert ids({"given": "Ann", "family": "Zeller"}) == [str(ann.pk)]
    assert ids({"birthdate": "1980-05-01"}) == [str(ann.pk)]
    assert ids({"birthdate": "lt1985", "family": "zell"}) == [str(ann.pk)]
    assert ids({"gender": "male", "family": "zell"}) != [str(ann.pk)]
    assert ids({"phone": "900555"}) == [str(ann.pk)]
    assert ids({"identifier": f"urn:hms:mrn|{ann.mrn_display}"}) == [str(ann.pk)]
    assert ids({"identifier": ann.mrn}) == [str(ann.pk)]
    first = valid(client.get(f"{BASE}/Patient", {"family": "zell", "_count": 1}, **token))
    assert len(first.entry) == 1
    next_url = next(link.url for link in first.link if link.relation == "next")
    second = valid(client.get(next_url, **token))
    assert len(second.entry) == 1 and second.entry[0].resource.id != first.entry[0].resource.id
    assert not [link for link in second.link if link.relation == "next"]
    rows = AuditEvent.objects.filter(action="fhir.patient.search")
    assert {r.patient_ref for r in rows} == {str(ann.pk), second.entry[0].resource.id}


def test_vital_signs_are_observations_with_loinc_codes_and_ucum_units(client, staff):
    _, token = staff(Role.NURSE)
    vitals = VitalsFactory(temperature_c=Decimal("38.5"), weight_kg=Decimal("70.0"))
    found = valid(
        client.get(
            f"{BASE}/Observation",
            {"patient": vitals.patient_id, "category": "vital-signs"},
            **token,
        )
    )
    by_code = {e.resource.code.coding[0].code: e.resource for e in found.entry}
    assert set(by_code) == {"8310-5", "8867-4", "29463-7", "85354-9"}
    temperature = by_code["8310-5"]
    assert temperature.valueQuantity.value == Decimal("38.5")
    assert (temperature.valueQuantity.system, temperature.valueQuantity.code) == (
        "http://unitsofmeasure.org",
        "Cel",
    )
    assert temperature.category[0].coding[0].code == "vital-signs"
    bp = by_code["85354-9"]
    assert {c.code.coding[0].code: c.valueQuantity.value for c in bp.component} == {
        "8480-6": 120,
        "8462-4": 80,
    }
    one = client.get(f"{BASE}/Observation/{temperature.id}", **token)
    assert valid(one, "Observation").valueQuantity.code == "Cel"
    by_loinc = valid(
        client.get(f"{BASE}/Observation", {"code": "http://loinc.org|8867-4"}, **token)
    )
    assert [e.resource.id for e in by_loinc.entry] == [f"{vitals.pk}-pulse"]


def test_every_clinical_type_reads_and_searches_as_valid_resources(client, staff):
    _, token = staff(Role.DOCTOR)
    encounter = EncounterFactory()
    patient = encounter.patient
    from hms.clinical.models import Diagnosis

    diagnosis = Diagnosis.objects.create(
        patient=patient,
        encounter=encounter,
        code_system=ICD10_SYSTEM,
        code="I10",
        code_display="Essential (primary) hypertension",
        onset_date=date(2020, 1, 1),
    )
    allergy = AllergyFactory(patient=patient)
    prescription = PrescriptionFactory(encounter=encounter, dose="1", frequency="2 times every 1 d")
    result = LabResultFactory(order__encounter=encounter, order__patient=patient)
    for kind, pk in [
        ("Encounter", encounter.pk),
        ("Condition", diagnosis.pk),
        ("AllergyIntolerance", allergy.pk),
        ("MedicationRequest", prescription.pk),
        ("Observation", result.pk),
    ]:
        response = client.get(f"{BASE}/{kind}/{pk}", **token)
        assert response.status_code == 200, (kind, response.content)
        valid(response, kind)
        found = valid(
            client.get(
                f"{BASE}/{kind}",
                {"patient": f"Patient/{patient.pk}", "_include": f"{kind}:patient"},
                **token,
            )
        )
        modes = {(e.resource.get_resource_type(), e.search.mode) for e in found.entry}
        assert (kind, "match") in modes and ("Patient", "include") in modes
    condition = valid(client.get(f"{BASE}/Condition/{diagnosis.pk}", **token))
    assert (condition.code.coding[0].system, condition.code.coding[0].code) == (ICD10_SYSTEM, "I10")
    icd = valid(client.get(f"{BASE}/Condition", {"code": f"{ICD10_SYSTEM}|I10"}, **token))
    assert [e.resource.id for e in icd.entry] == [str(diagnosis.pk)]
    lab = valid(client.get(f"{BASE}/Observation", {"category": "laboratory"}, **token))
    assert [e.resource.id for e in lab.entry] == [str(result.pk)]
    everything = valid(client.get(f"{BASE}/Patient/{patient.pk}/$everything", **token))
    kinds = {e.resource.get_resource_type() for e in everything.entry}
    assert kinds == {
        "Patient",
        "Encounter",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "Observation",
    }


def test_directory_and_scheduling_resources_are_valid(client, staff, schedule, doctor):
    Hospital.objects.create(name="St. Test")
    _, token = staff(Role.RECEPTIONIST)
    appointment = scheduling.appointment_book(
        actor=UserFactory(role=Role.RECEPTIONIST),
        patient=PatientFactory(),
        practitioner=doctor,
        start=at(2, 10),
    )
    for kind in (
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Schedule",
        "Slot",
        "Appointment",
    ):
        found = valid(client.get(f"{BASE}/{kind}", {"_count": 3}, **token), "Bundle")
        assert found.entry, kind
        first = found.entry[0].resource
        one = client.get(f"{BASE}/{kind}/{first.id}", **token)
        assert one.status_code == 200, (kind, one.content)
        assert valid(one, kind).id == first.id
    slots = valid(
        client.get(
            f"{BASE}/Slot",
            {"schedule": f"Schedule/{schedule.pk}", "start": f"ge{at(3, 0).date()}"},
            **token,
        )
    )
    assert all(e.resource.status == "free" for e in slots.entry)
    booked = valid(
        client.get(f"{BASE}/Appointment", {"practitioner": doctor.pk, "status": "booked"}, **token)
    )
    assert [e.resource.id for e in booked.entry] == [str(appointment.pk)]


def test_a_patients_token_sees_only_their_own_compartment(client, token_for):
    me = PortalPatientFactory()
    other = PatientFactory()
    mine = LabResultFactory(order__patient=me, released_to_patient=True, released_at=timezone.now())
    theirs = LabResultFactory(
        order__patient=other, released_to_patient=True, released_at=timezone.now()
    )
    token = token_for(me.user)
    assert client.get(f"{BASE}/Observation/{mine.pk}", **token).status_code == 200
    assert outcome(client.get(f"{BASE}/Observation/{theirs.pk}", **token), 404) == "not-found"
    assert outcome(client.get(f"{BASE}/Patient/{other.pk}", **token), 404) == "not-found"
    assert client.get(f"{BASE}/Patient/{me.pk}", **token).status_code == 200
    found = valid(client.get(f"{BASE}/Observation", **token))
    assert [e.resource.id for e in found.entry] == [str(mine.pk)]
    asked = valid(client.get(f"{BASE}/Observation", {"patient": other.pk}, **token))
    assert not asked.entry
    patients = valid(client.get(f"{BASE}/Patient", **token))
    assert [e.resource.id for e in patients.entry] == [str(me.pk)]
    # Diagnoses are not shown in the portal, so not to a patient's token either.
    assert outcome(client.get(f"{BASE}/Condition", **token), 403) == "forbidden"
    assert AuditEvent.objects.filter(
        action="fhir.observation.read_denied", patient_ref=str(other.pk)
    ).exists()


def test_creating_and_updating_a_patient_goes_through_the_registry(client, staff):
    user, token = staff(Role.RECEPTIONIST)
    body = {
        "resourceType": "Patient",
        "name": [{"family": "Okafor", "given": ["Ada", "Ngozi"]}],
        "gender": "female",
        "birthDate": "1985-02-03",
        "telecom": [{"system": "phone", "value": "+447700900123"}],
        "identifier": [{"system": "urn:oid:1.2.3", "value": "NHS-1"}],
    }
    response = client.post(
        f"{BASE}/Patient", json.dumps(body), content_type="application/fhir+json", **token
    )
    assert response.status_code == 201, response.content
    created = valid(response, "Patient")
    assert response["Location"].endswith(f"/Patient/{created.id}/_history/{created.meta.versionId}")
    patient = Patient.objects.get(pk=created.id)
    assert (patient.given_name, patient.middle_names, patient.family_name) == (
        "Ada",
        "Ngozi",
        "Okafor",
    )
    assert patient.mrn and patient.identifiers.filter(value="NHS-1").exists()
    body.update(id=created.id, gender="other")
    stale = client.put(
        f"{BASE}/Patient/{created.id}",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_IF_MATCH='W/"1"',
        **token,
    )
    assert outcome(stale, 412) == "conflict"
    updated = client.put(
        f"{BASE}/Patient/{created.id}",
        json.dumps(body),
        content_type="application/fhir+json",
        **token,
    )
    assert updated.status_code == 200, updated.content
    assert valid(updated).gender == "other"
    bad = client.post(
        f"{BASE}/Patient",
        json.dumps({"resourceType": "Patient", "gender": "x"}),
        content_type="application/fhir+json",
        **token,
    )
    assert outcome(bad, 400) == "invalid"
    nurse_token = staff(Role.PHARMACIST)[1]
    refused = client.post(
        f"{BASE}/Patient", json.dumps(body), content_type="application/fhir+json", **nurse_token
    )
    assert outcome(refused, 403) == "forbidden"


def test_booking_through_fhir_obeys_the_no_double_booking_rule(client, staff, doctor):
    _, token = staff(Role.RECEPTIONIST)
    first, second = PatientFactory(), PatientFactory()

    def book(patient):
        body = {
            "resourceType": "Appointment",
            "status": "booked",
            "start": at(2, 10).isoformat(),
            "end": at(2, 10, 15).isoformat(),
            "participant": [
                {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"},
                {"actor": {"reference": f"Practitioner/{doctor.pk}"}, "status": "accepted"},
            ],
        }
        return client.post(
            f"{BASE}/Appointment", json.dumps(body), content_type="application/fhir+json", **token
        )

    response = book(first)
    assert response.status_code == 201, response.content
    appointment = valid(response, "Appointment")
    assert appointment.status == "booked"
    taken = book(second)
    assert outcome(taken, 409) == "conflict"
    cancel = appointment.model_dump(mode="json")
    cancel.update(status="cancelled", cancelationReason={"text": "Feeling better"})
    cancelled = client.put(
        f"{BASE}/Appointment/{appointment.id}",
        json.dumps(cancel),
        content_type="application/fhir+json",
        **token,
    )
    assert cancelled.status_code == 200, cancelled.content
    assert valid(cancelled).status == "cancelled"
    assert book(second).status_code == 201  # the freed time can be booked again


def test_a_patient_books_through_fhir_only_for_themself(client, token_for, doctor):
    me, other = PortalPatientFactory(), PatientFactory()
    token = token_for(me.user)

    slot_id = f"{doctor.pk}.{at(2, 11).astimezone(timezone.UTC):%Y%m%dT%H%M%SZ}"

    def book(patient):
        body = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"}
            ],
        }
        return client.post(
            f"{BASE}/Appointment", json.dumps(body), content_type="application/fhir+json", **token
        )

    assert outcome(book(other), 404) == "not-found"
    mine = book(me)
    assert mine.status_code == 201, mine.content
    assert valid(mine).participant[0].actor.reference == f"Patient/{me.pk}"


def test_search_bundles_validate_as_bundles(client, staff):
    _, token = staff(Role.DOCTOR)
    VitalsFactory()
    response = client.get(f"{BASE}/Observation", **token)
    Bundle.model_validate(json.loads(response.content))
