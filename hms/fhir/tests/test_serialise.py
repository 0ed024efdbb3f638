"""`resource_json` writes exactly the text fhir.resources' `model_dump_json()` writes."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hms.accounts.tests.factories import UserFactory
from hms.core.permissions import Role
from hms.fhir import mappers
from hms.fhir.serialise import resource_json
from hms.patients.models import IdentifierSystem, PatientIdentifier
from hms.patients.tests.factories import PatientFactory

DATA = Path(__file__).parent / "data"
BASE = "/fhir/R4"


def same_text(resource) -> None:
    assert resource_json(resource) == resource.model_dump_json()


def sample_resources() -> list:
    """The import tests' resources that fhir.resources accepts (some are wrong on purpose)."""
    found = [json.loads(line) for line in (DATA / "observations.ndjson").read_text().splitlines()]
    bundle = json.loads((DATA / "transaction-bundle.json").read_text())
    valid = []
    for data in found + [entry["resource"] for entry in bundle["entry"]]:
        try:
            valid.append(get_fhir_model_class(data["resourceType"]).model_validate(data))
        except ValidationError:
            continue
    return valid


@pytest.mark.parametrize("resource", sample_resources(), ids=lambda r: r.get_resource_type())
def test_resources_as_other_systems_send_them_are_written_as_fhir_resources_writes_them(resource):
    same_text(resource)


def test_extensions_contained_resources_decimals_and_comments_are_written_the_same():
    patient = FhirPatient.model_validate(
        {
            "resourceType": "Patient",
            "id": "p1",
            "meta": {"versionId": "7", "lastUpdated": "2026-01-02T03:04:05.000600+02:00"},
            "fhir_comments": ["imported"],
            "contained": [{"resourceType": "Organization", "id": "o1", "name": "Clinic"}],
            "extension": [{"url": "urn:x", "valueDecimal": 1.50}],
            "birthDate": "1980-05-06",
            "_birthDate": {"extension": [{"url": "urn:time", "valueTime": "10:30:00"}]},
            "name": [{"given": ["A", None], "_given": [None, {"id": "g2"}]}],
            "multipleBirthInteger": 2,
            "deceasedDateTime": "2020-03",
        }
    )
    same_text(patient)
    observation = Observation.model_validate(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "Weight"},
            "component": [
                {"code": {"text": str(v)}, "valueQuantity": {"value": v}}
                for v in (72, 72.0, 0.5, 1e3, Decimal("1.50"), Decimal("1E+3"), Decimal("100E-2"))
            ],
        }
    )
    same_text(observation)


def test_base64_data_is_left_to_fhir_resources_own_serializer():
    patient = FhirPatient(id="p2", photo=[{"contentType": "image/png", "data": "aGVsbG8="}])
    same_text(patient)
    assert json.loads(resource_json(patient))["photo"][0]["data"] == "aGVsbG8="


text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s.strip())


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=text,
    given_name=text,
    middle=st.lists(st.text("abcé- ", min_size=1, max_size=5), max_size=2),
    phone=st.sampled_from(["", "+44 20 7946 0000"]),
    email=st.sampled_from(["", "a.b@example.org"]),
    city=st.sampled_from(["", "Zürich", 'Quote "city"', "Back\\slash"]),
    language=st.sampled_from(["", "fr"]),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
)
def test_any_patient_we_map_is_written_as_fhir_resources_writes_it(
    family, given_name, middle, phone, email, city, language, born
):
    patient = PatientFactory(
        family_name=family,
        given_name=given_name,
        middle_names=" ".join(m.strip() for m in middle if m.strip()),
        birth_date=born,
        sex="female",
        phone=phone,
        email=email,
        city=city,
        preferred_language=language,
    )
    same_text(mappers.patient_to_fhir(patient))


@pytest.mark.django_db
def test_a_patient_served_is_the_text_fhir_resources_writes(client, token_for):
    patient = PatientFactory(family_name="Ødegård", city="Tromsø")
    PatientIdentifier.objects.create(
        patient=patient, system=IdentifierSystem.EXTERNAL_MRN, value="X-1"
    )
    token = token_for(UserFactory(role=Role.RECEPTIONIST))
    response = client.get(f"{BASE}/Patient/{patient.pk}", **token)
    assert response.status_code == 200
    patient.refresh_from_db()
    assert response.content.decode() == mappers.patient_to_fhir(patient).model_dump_json()


@pytest.mark.django_db
def test_a_search_page_is_written_without_fhir_resources_slow_serializer(
    client, token_for, monkeypatch
):
    """The walk fhir.resources' `model_dump_json` does was most of a first search's CPU."""
    for n in range(3):
        PatientFactory(family_name=f"Varga{n}")
    token = token_for(UserFactory(role=Role.RECEPTIONIST))
    slow = []
    monkeypatch.setattr(FhirPatient, "model_dump_json", lambda self, **kw: slow.append(self))
    response = client.get(f"{BASE}/Patient", {"family": "varga", "_count": 10}, **token)
    assert response.status_code == 200
    assert len(json.loads(response.content)["entry"]) == 3
    assert slow == []
